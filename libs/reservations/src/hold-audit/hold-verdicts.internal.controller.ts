import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalRoute } from '@stockmesh/auth';
import { HOLD_ID_PATTERN } from '@stockmesh/contracts';
import { ArrayMaxSize, ArrayMinSize, IsArray, Matches } from 'class-validator';
import type { HoldVerdict } from './hold-verdict.js';
import { HoldVerdicts } from './hold-verdicts.service.js';

/** Most hold ids one audit call asks about: one page of an owner's audit. */
export const MAX_AUDITED_HOLDS = 500;

export class HoldVerdictsBody {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_AUDITED_HOLDS)
  @Matches(HOLD_ID_PATTERN, { each: true, message: 'each hold id must be <reservationId>.<allocationNo>' })
  readonly holdIds!: string[];
}

/**
 * The coordinator's answer to an owner's hold audit (region to region, on the internal listener,
 * signed; left out of the public OpenAPI document): for each hold the owner still holds, whether
 * its reservation still wants it. Read-only.
 */
@ApiExcludeController()
@InternalRoute()
@Controller('internal/v1/hold-verdicts')
export class HoldVerdictsInternalController {
  constructor(private readonly verdicts: HoldVerdicts) {}

  @Post()
  @HttpCode(200)
  async judge(@Body() body: HoldVerdictsBody): Promise<{ verdicts: Record<string, HoldVerdict> }> {
    return { verdicts: await this.verdicts.judge(body.holdIds) };
  }
}
