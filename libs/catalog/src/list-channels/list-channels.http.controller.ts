import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { ChannelListView } from '../channel.js';
import { ChannelsService } from '../channels.service.js';

@ApiTags('channels')
@Controller('v1/channels')
export class ListChannelsHttpController {
  constructor(private readonly channels: ChannelsService) {}

  /** Every sales channel this region knows: its own and, once replicated, every other region's. */
  @Get()
  @ScopedOperation('stock:read', { operationId: 'listChannels', summary: 'List the sales channels' })
  @ApiOkResponse({ type: ChannelListView })
  async list(): Promise<ChannelListView> {
    return { items: await this.channels.list() };
  }
}
