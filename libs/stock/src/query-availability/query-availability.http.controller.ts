import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { ChannelsService } from '@stockmesh/catalog';
import { BODY_PROBLEMS, Principal, type RequestPrincipal } from '@stockmesh/http';
import { AvailabilityService } from '../availability.service.js';
import { AvailabilityListView } from '../availability.views.js';
import { QueryAvailabilityRequest } from './query-availability.request.dto.js';

@ApiTags('availability')
@Controller('v1/availability/query')
export class QueryAvailabilityHttpController {
  constructor(
    private readonly availability: AvailabilityService,
    private readonly channels: ChannelsService,
  ) {}

  /** Availability of up to 500 SKUs at once, in request order, optionally of one sales channel (a read: nothing changes). */
  @Post()
  @ScopedOperation('stock:read', {
    operationId: 'queryAvailability',
    summary: 'Get the availability of many SKUs',
    problems: [...BODY_PROBLEMS, 'unknown-channel', 'channel-forbidden'],
  })
  @HttpCode(200)
  @ApiOkResponse({ type: AvailabilityListView })
  async query(@Body() body: QueryAvailabilityRequest, @Principal() principal: RequestPrincipal): Promise<AvailabilityListView> {
    const channel = await this.channels.forRequest(body.channel, principal);
    return { items: await this.availability.query(body.skus, channel) };
  }
}
