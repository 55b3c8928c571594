import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { BODY_PROBLEMS } from '@stockmesh/http';
import { AvailabilityService } from '../availability.service.js';
import { AvailabilityListView } from '../availability.views.js';
import { QueryAvailabilityRequest } from './query-availability.request.dto.js';

@ApiTags('availability')
@Controller('v1/availability/query')
export class QueryAvailabilityHttpController {
  constructor(private readonly availability: AvailabilityService) {}

  /** Availability of up to 500 SKUs at once, in request order (a read: nothing changes). */
  @Post()
  @ScopedOperation('stock:read', {
    operationId: 'queryAvailability',
    summary: 'Get the availability of many SKUs',
    problems: [...BODY_PROBLEMS],
  })
  @HttpCode(200)
  @ApiOkResponse({ type: AvailabilityListView })
  async query(@Body() body: QueryAvailabilityRequest): Promise<AvailabilityListView> {
    return { items: await this.availability.query(body.skus) };
  }
}
