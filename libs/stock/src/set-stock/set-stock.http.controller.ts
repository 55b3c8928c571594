import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiConflictResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { Idempotency, IDEMPOTENT_BODY_PROBLEMS, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { StockKeyParams } from '../stock-key.params.js';
import { StockService } from '../stock.service.js';
import { StockChangeView } from '../stock.views.js';
import { SetStockRequest } from './set-stock.request.dto.js';

@ApiTags('stock')
@Controller('v1/warehouses/:warehouseId/stock/:sku')
export class SetStockHttpController {
  constructor(private readonly stock: StockService) {}

  /**
   * Sets the counted on-hand quantity (a cycle count), the safety stock, the low-stock threshold,
   * or several; what is left out stays. Refused with 409 below the reserved units. The safety
   * stock may exceed on-hand.
   */
  @Put()
  @ScopedOperation('stock:write', {
    operationId: 'setStock',
    summary: 'Set the counted on-hand stock, the safety stock and/or the low-stock threshold',
    problems: [...IDEMPOTENT_BODY_PROBLEMS, 'warehouse-not-found', 'kit-not-stocked', 'insufficient-stock'],
  })
  @RouteToOwner({ warehouseParam: 'warehouseId' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOkResponse({ type: StockChangeView })
  @ApiConflictResponse({ description: 'insufficient-stock: fewer than the reserved units.' })
  async set(
    @Param() key: StockKeyParams,
    @Body() body: SetStockRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    return idempotentAnswer(
      await this.stock.setCount(
        key,
        {
          ...(body.onHand === undefined ? {} : { onHand: body.onHand }),
          ...(body.safetyStock === undefined ? {} : { safetyStock: body.safetyStock }),
          ...(body.lowStockThreshold === undefined ? {} : { lowStockThreshold: body.lowStockThreshold }),
        },
        origin,
        idempotent,
      ),
    );
  }
}
