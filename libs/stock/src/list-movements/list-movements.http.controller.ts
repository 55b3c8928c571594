import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { RouteToOwner } from '@stockmesh/http';
import { StockKeyParams } from '../stock-key.params.js';
import { StockService } from '../stock.service.js';
import { MovementPageView } from '../stock.views.js';
import { ListMovementsQuery } from './list-movements.query.dto.js';

@ApiTags('stock')
@Controller('v1/warehouses/:warehouseId/stock/:sku/movements')
export class ListMovementsHttpController {
  constructor(private readonly stock: StockService) {}

  /** The ledger of one row, newest first. */
  @Get()
  @ScopedOperation('stock:read', {
    operationId: 'listMovements',
    summary: 'List the movements of a stock row',
    problems: ['validation-failed', 'warehouse-not-found'],
  })
  @RouteToOwner({ warehouseParam: 'warehouseId' })
  @ApiOkResponse({ type: MovementPageView })
  list(@Param() key: StockKeyParams, @Query() query: ListMovementsQuery): Promise<MovementPageView> {
    return this.stock.movements(key, query.limit, query.before);
  }
}
