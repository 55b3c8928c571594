import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags, PickType } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { StockKeyParams } from '../stock-key.params.js';
import { ListWarehouseStockQuery } from './list-warehouse-stock.query.dto.js';
import { WarehouseStockService } from './warehouse-stock.service.js';
import { WarehouseStockPageView } from './warehouse-stock.views.js';

/** `{warehouseId}`: the rule of the stock routes'. */
export class WarehouseIdParams extends PickType(StockKeyParams, ['warehouseId'] as const) {}

@ApiTags('stock')
@Controller('v1/warehouses/:warehouseId/stock')
export class ListWarehouseStockHttpController {
  constructor(private readonly stock: WarehouseStockService) {}

  /**
   * A warehouse's rows by SKU, one page at a time, for reconciliation. Served from this region's
   * own data, never forwarded: the owner's rows at the owner, the replica elsewhere.
   */
  @Get()
  @ScopedOperation('stock:read', {
    operationId: 'listWarehouseStock',
    summary: 'Page through a warehouse’s stock rows',
    problems: ['validation-failed', 'warehouse-not-found'],
  })
  @ApiOkResponse({ type: WarehouseStockPageView })
  list(@Param() params: WarehouseIdParams, @Query() query: ListWarehouseStockQuery): Promise<WarehouseStockPageView> {
    return this.stock.page(params.warehouseId, query.limit, query.cursor);
  }
}
