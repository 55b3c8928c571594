import { Body, Controller, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalRoute } from '@stockmesh/auth';
import { HOLD_ID_PATTERN, IDENTIFIER_PATTERN, MAX_QUANTITY, RESERVATION_ID_PATTERN, RESERVATION_TTL } from '@stockmesh/contracts';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
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
  /**
   * How long to keep the hold without news from the coordinator. Optional so that a coordinator
   * of an older version can still place holds during a rolling upgrade: those are kept as long as
   * a reservation can live.
   */
  @IsOptional() @IsInt() @Min(RESERVATION_TTL.min) @Max(RESERVATION_TTL.max) readonly ttlSeconds?: number;
  /**
   * The hold may take the row's safety stock: the coordinator sends it only for a reservation whose
   * key has `stock:reserve-safety`. Trusted because this route serves signed region calls only;
   * absent (an ordinary hold, or an older coordinator) means no.
   */
  @IsOptional() @IsBoolean() readonly mayUseSafetyStock?: boolean;
  /**
   * What on hand does not cover may be promised out of the row's incoming receipts: sent for a
   * reservation that asked `allowBackorder`. Absent (an older coordinator) means no.
   */
  @IsOptional() @IsBoolean() readonly allowBackorder?: boolean;
}

export class CommitHoldBody extends HoldTargetBody {
  /** A partial commit: this many of the hold's units leave on-hand, the rest become available. Absent: all of them. */
  @IsOptional() @IsInt() @Min(1) @Max(MAX_QUANTITY) readonly quantity?: number;
}

export class RenewHoldBody extends HoldTargetBody {
  @IsInt() @Min(RESERVATION_TTL.min) @Max(RESERVATION_TTL.max) readonly ttlSeconds!: number;
}

/**
 * The owner side of a reservation, called by the coordinating region (region to region, not
 * for storefronts; left out of the public OpenAPI document). Every call is idempotent by hold id.
 */
@ApiExcludeController()
// Served on the internal listener only, to signed region calls (docs/security.md).
@InternalRoute()
@Controller('internal/v1/holds/:holdId')
export class HoldsInternalController {
  constructor(private readonly holds: HoldService) {}

  @Put()
  @HttpCode(201)
  place(@Param() params: HoldIdParams, @Body() body: PlaceHoldBody): Promise<HoldView> {
    return this.holds.place({ ...body, holdId: params.holdId, ttlSeconds: body.ttlSeconds ?? RESERVATION_TTL.max });
  }

  /** The coordinator's reservation still lives: keep the hold at least `ttlSeconds` more. */
  @Post('renew')
  @HttpCode(200)
  renew(@Param() params: HoldIdParams, @Body() body: RenewHoldBody): Promise<HoldView> {
    return this.holds.renew(params.holdId, body, body.ttlSeconds);
  }

  @Post('commit')
  @HttpCode(200)
  commit(@Param() params: HoldIdParams, @Body() body: CommitHoldBody): Promise<HoldView> {
    return this.holds.commit(params.holdId, body, body.quantity);
  }

  @Post('release')
  @HttpCode(200)
  release(@Param() params: HoldIdParams, @Body() body: HoldTargetBody): Promise<HoldView> {
    return this.holds.release(params.holdId, body);
  }
}
