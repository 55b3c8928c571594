import { IntersectionType } from '@nestjs/swagger';
import { AdjustStockRequest, StockKeyParams } from '@stockmesh/stock';

/**
 * The data of `io.stockmesh.stock.adjust.v1`: `{ warehouseId, sku, delta, reason }`, the path
 * parameters and the body of `POST /v1/warehouses/{warehouseId}/stock/{sku}/adjustments` with
 * their very rules (the classes are merged, not copied).
 */
export class AdjustStockCommand extends IntersectionType(StockKeyParams, AdjustStockRequest) {}
