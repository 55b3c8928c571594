import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { Idempotency, IDEMPOTENT_BODY_PROBLEMS, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { StockKeyParams } from '../stock-key.params.js';
import { StockService } from '../stock.service.js';
import { StockChangeView } from '../stock.views.js';
import { AdjustStockRequest } from './adjust-stock.request.dto.js';

@ApiTags('stock')
@Controller('v1/warehouses/:warehouseId/stock/:sku/adjustments')
export class AdjustStockHttpController {
  constructor(private readonly stock: StockService) {}

  /** Adds or removes on-hand units. A missing row starts at 0. */
  @Post()
  @ScopedOperation('stock:write', {
    operationId: 'adjustStock',
    summary: 'Adjust on-hand stock',
    problems: [...IDEMPOTENT_BODY_PROBLEMS, 'warehouse-not-found', 'kit-not-stocked', 'insufficient-stock', 'quantity-limit-exceeded'],
  })
  @RouteToOwner({ warehouseParam: 'warehouseId' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: StockChangeView })
  @ApiConflictResponse({ description: 'insufficient-stock or quantity-limit-exceeded; nothing changed.' })
  async adjust(
    @Param() key: StockKeyParams,
    @Body() body: AdjustStockRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    return idempotentAnswer(await this.stock.adjust(key, body.delta, body.reason, origin, idempotent));
  }
}
