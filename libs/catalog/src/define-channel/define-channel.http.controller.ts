import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { Idempotency, IDEMPOTENT_BODY_PROBLEMS, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { ChannelIdParams } from '../channel-id.params.js';
import { ChannelView } from '../channel.js';
import { ChannelsService } from '../channels.service.js';
import { DefineChannelRequest } from './define-channel.request.dto.js';

@ApiTags('channels')
@Controller('v1/channels')
export class DefineChannelHttpController {
  constructor(private readonly channels: ChannelsService) {}

  @Put(':channelId')
  @ScopedOperation('catalog:write', {
    operationId: 'defineChannel',
    summary: 'Define or change a sales channel',
    problems: [...IDEMPOTENT_BODY_PROBLEMS, 'channel-region-conflict', 'unknown-warehouse'],
  })
  @RouteToOwner({ regionBodyField: 'region' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: ChannelView, description: 'Defined.' })
  @ApiOkResponse({ type: ChannelView, description: 'Already defined; name and warehouses updated.' })
  async define(
    @Param() params: ChannelIdParams,
    @Body() body: DefineChannelRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    const answer = await this.channels.define(
      { id: params.channelId, region: body.region, name: body.name, warehouseIds: body.warehouseIds },
      origin.requestId,
      idempotent,
    );
    return idempotentAnswer(answer);
  }
}
