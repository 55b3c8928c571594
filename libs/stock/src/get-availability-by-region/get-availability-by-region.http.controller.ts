import { Controller, Get, Param, Req } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { callerOf } from '@stockmesh/http';
import type { FastifyRequest } from 'fastify';
import { SkuParams } from '../get-availability/get-availability.http.controller.js';
import { AvailabilityByRegionService } from './availability-by-region.service.js';
import { AvailabilityByRegionView } from './availability-by-region.views.js';

@ApiTags('availability')
@Controller('v1/availability')
export class GetAvailabilityByRegionHttpController {
  constructor(private readonly availability: AvailabilityByRegionService) {}

  /**
   * One SKU as every region sees it, side by side: each region's own availability (its rows and
   * replicas, with when each row changed at its owner and was applied there), asked for this
   * client. A region that does not answer within the forwarding timeout is listed, not answered.
   * For comparing regions (the dashboard); a storefront wants `GET /v1/availability/{sku}`.
   */
  @Get(':sku/regions')
  @ScopedOperation('stock:read', {
    operationId: 'getAvailabilityByRegion',
    summary: 'Get the availability of a SKU as every region sees it',
    problems: ['validation-failed'],
  })
  @ApiOkResponse({ type: AvailabilityByRegionView })
  get(@Param() params: SkuParams, @Req() request: FastifyRequest): Promise<AvailabilityByRegionView> {
    const caller = callerOf(request);
    // The guard identified the client before this runs; no caller would be a bug, not a client's fault.
    if (!caller) throw new Error('no caller identity on an authenticated request');
    return this.availability.get(params.sku, caller);
  }
}
