import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';
import type { WarehouseAvailabilityView } from './availability.views.js';
import type { IncomingReceipt } from './incoming-stock/incoming-receipts.js';
import { storefrontAvailable } from './stock-level.js';

interface Row {
  sku: string;
  warehouse_id: string;
  region: string;
  on_hand: string;
  reserved: string;
  safety_stock: string;
  incoming: IncomingReceipt[];
  backordered: string;
  version: string;
  updated_at: Date;
  applied_at: Date;
}

/** Reads the rows of some SKUs from one shard database: the region's own rows and its replicas. */
@Injectable()
export class AvailabilityRepository {
  /** One statement: every warehouse row of the given SKUs, own and replicated. */
  async rows(tx: SqlTx, skus: readonly string[]): Promise<Map<string, WarehouseAvailabilityView[]>> {
    const rows = await tx.query<Row>(
      `SELECT sku, warehouse_id, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at, updated_at AS applied_at
         FROM stock WHERE sku = ANY($1::text[]) AND version > 0
       UNION ALL
       SELECT sku, warehouse_id, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at, applied_at
         FROM stock_replica WHERE sku = ANY($1::text[])
       ORDER BY sku, warehouse_id`,
      [skus],
    );
    const bySku = new Map<string, WarehouseAvailabilityView[]>();
    for (const r of rows) {
      const onHand = Number(r.on_hand);
      const reserved = Number(r.reserved);
      const safetyStock = Number(r.safety_stock);
      const list = bySku.get(r.sku) ?? [];
      list.push({
        warehouseId: r.warehouse_id,
        region: r.region,
        onHand,
        reserved,
        safetyStock,
        available: storefrontAvailable({ onHand, reserved, safetyStock }),
        incoming: r.incoming,
        backordered: Number(r.backordered),
        version: Number(r.version),
        updatedAt: r.updated_at.toISOString(),
        appliedAt: r.applied_at.toISOString(),
      });
      bySku.set(r.sku, list);
    }
    return bySku;
  }
}
