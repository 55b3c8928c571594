import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { Idempotency, IDEMPOTENT_BODY_PROBLEMS, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { KitSkuParams } from '../kit-sku.params.js';
import { KitView } from '../kit.js';
import { KitsService } from '../kits.service.js';
import { DefineKitRequest } from './define-kit.request.dto.js';

@ApiTags('kits')
@Controller('v1/kits')
export class DefineKitHttpController {
  constructor(private readonly kits: KitsService) {}

  @Put(':sku')
  @ScopedOperation('catalog:write', {
    operationId: 'defineKit',
    summary: 'Define or change a kit (bundle)',
    problems: [...IDEMPOTENT_BODY_PROBLEMS, 'kit-region-conflict', 'kit-component-is-kit'],
  })
  @RouteToOwner({ regionBodyField: 'region' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: KitView, description: 'Defined.' })
  @ApiOkResponse({ type: KitView, description: 'Already defined; components updated.' })
  async define(
    @Param() params: KitSkuParams,
    @Body() body: DefineKitRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    const components = body.components.map((c) => ({ sku: c.sku, quantity: c.quantity }));
    const answer = await this.kits.define({ sku: params.sku, region: body.region, components }, origin.requestId, idempotent);
    return idempotentAnswer(answer);
  }
}
