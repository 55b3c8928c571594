import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { ChannelsService } from '@stockmesh/catalog';
import { Principal, type RequestPrincipal } from '@stockmesh/http';
import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';
import { Matches } from 'class-validator';
import { AvailabilityService } from '../availability.service.js';
import { AvailabilityView } from '../availability.views.js';
import { AvailabilityChannelQuery } from './availability-channel.query.dto.js';

export class SkuParams {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'SKU-1' })
  @Matches(IDENTIFIER_PATTERN, { message: `sku must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly sku!: string;
}

@ApiTags('availability')
@Controller('v1/availability')
export class GetAvailabilityHttpController {
  constructor(
    private readonly availability: AvailabilityService,
    private readonly channels: ChannelsService,
  ) {}

  /**
   * Global stock of one SKU from this region's local data (own rows and replicas), or of a sales
   * channel's warehouses; a SKU no one stocks is all zeros.
   */
  @Get(':sku')
  @ScopedOperation('stock:read', {
    operationId: 'getAvailability',
    summary: 'Get the availability of a SKU',
    problems: ['validation-failed', 'unknown-channel', 'channel-forbidden'],
  })
  @ApiOkResponse({ type: AvailabilityView })
  async get(
    @Param() params: SkuParams,
    @Query() query: AvailabilityChannelQuery,
    @Principal() principal: RequestPrincipal,
  ): Promise<AvailabilityView> {
    const channel = await this.channels.forRequest(query.channel, principal);
    return this.availability.get(params.sku, channel);
  }
}
