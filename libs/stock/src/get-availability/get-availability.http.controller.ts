import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';
import { Matches } from 'class-validator';
import { AvailabilityService } from '../availability.service.js';
import { AvailabilityView } from '../availability.views.js';

export class SkuParams {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'SKU-1' })
  @Matches(IDENTIFIER_PATTERN, { message: `sku must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly sku!: string;
}

@ApiTags('availability')
@Controller('v1/availability')
export class GetAvailabilityHttpController {
  constructor(private readonly availability: AvailabilityService) {}

  /** Global stock of one SKU from this region's local data (own rows and replicas); a SKU no one stocks is all zeros. */
  @Get(':sku')
  @ScopedOperation('stock:read', {
    operationId: 'getAvailability',
    summary: 'Get the availability of a SKU',
    problems: ['validation-failed'],
  })
  @ApiOkResponse({ type: AvailabilityView })
  get(@Param() params: SkuParams): Promise<AvailabilityView> {
    return this.availability.get(params.sku);
  }
}
