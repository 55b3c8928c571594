import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { ChannelIdParams } from '../channel-id.params.js';
import { ChannelView } from '../channel.js';
import { ChannelsService } from '../channels.service.js';

@ApiTags('channels')
@Controller('v1/channels/:channelId')
export class GetChannelHttpController {
  constructor(private readonly channels: ChannelsService) {}

  /** A sales channel as this region knows it (another region's, once replicated). */
  @Get()
  @ScopedOperation('stock:read', {
    operationId: 'getChannel',
    summary: 'Get a sales channel',
    problems: ['validation-failed', 'channel-not-found'],
  })
  @ApiOkResponse({ type: ChannelView })
  get(@Param() params: ChannelIdParams): Promise<ChannelView> {
    return this.channels.get(params.channelId);
  }
}
