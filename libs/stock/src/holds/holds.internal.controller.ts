import { Body, Controller, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalRoute } from '@stockmesh/auth';
import { HOLD_ID_PATTERN, IDENTIFIER_PATTERN, MAX_QUANTITY, RESERVATION_ID_PATTERN } from '@stockmesh/contracts';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { HoldService, type HoldView } from './hold.service.js';

export class HoldIdParams {
  @Matches(HOLD_ID_PATTERN, { message: 'holdId must be <reservationId>.<allocationNo>' }) readonly holdId!: string;
}

export class HoldTargetBody {
  @Matches(RESERVATION_ID_PATTERN, { message: 'reservationId must be <region>.<uuid>' }) readonly reservationId!: string;
  @Matches(IDENTIFIER_PATTERN) readonly warehouseId!: string;
  @Matches(IDENTIFIER_PATTERN) readonly sku!: string;
}

export class PlaceHoldBody extends HoldTargetBody {
  @IsInt() @Min(1) @Max(MAX_QUANTITY) readonly quantity!: number;
}

/**
 * The owner side of a reservation, called by the coordinating region (region to region, not
 * for storefronts; left out of the public OpenAPI document). Every call is idempotent by hold id.
 */
@ApiExcludeController()
// TODO(issue 8): its own listener with region-to-region authentication; skipped by the API-key guard until then.
@InternalRoute()
@Controller('internal/v1/holds/:holdId')
export class HoldsInternalController {
  constructor(private readonly holds: HoldService) {}

  @Put()
  @HttpCode(201)
  place(@Param() params: HoldIdParams, @Body() body: PlaceHoldBody): Promise<HoldView> {
    return this.holds.place({ ...body, holdId: params.holdId });
  }

  @Post('commit')
  @HttpCode(200)
  commit(@Param() params: HoldIdParams, @Body() body: HoldTargetBody): Promise<HoldView> {
    return this.holds.commit(params.holdId, body);
  }

  @Post('release')
  @HttpCode(200)
  release(@Param() params: HoldIdParams, @Body() body: HoldTargetBody): Promise<HoldView> {
    return this.holds.release(params.holdId, body);
  }
}
