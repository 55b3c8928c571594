import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { RouteToOwner } from '@stockmesh/http';
import { StockKeyParams } from '../stock-key.params.js';
import { StockService } from '../stock.service.js';
import { StockView } from '../stock.views.js';

@ApiTags('stock')
@Controller('v1/warehouses/:warehouseId/stock/:sku')
export class GetStockHttpController {
  constructor(private readonly stock: StockService) {}

  /** The row as its owner holds it (read from the owner, forwarded if need be). */
  @Get()
  @ScopedOperation('stock:read', {
    operationId: 'getStock',
    summary: 'Get the stock of a SKU in a warehouse',
    problems: ['validation-failed', 'warehouse-not-found', 'stock-not-found'],
  })
  @RouteToOwner({ warehouseParam: 'warehouseId' })
  @ApiOkResponse({ type: StockView })
  @ApiNotFoundResponse({ description: 'warehouse-not-found or stock-not-found.' })
  get(@Param() key: StockKeyParams): Promise<StockView> {
    return this.stock.get(key);
  }
}
