import { Injectable } from '@nestjs/common';
import type { StockChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import type { StockKey } from './stock.repository.js';

/** The `stock_replica` table: other regions' rows as their owners last published them. */
@Injectable()
export class StockReplicaRepository {
  /**
   * Stores the row unless a version at least as high is already there: duplicates and
   * out-of-order deliveries change nothing. `applied_at` is the wall clock of the apply (not the
   * transaction start), so it says when the row became visible here. Returns whether it changed.
   */
  async apply(tx: SqlTx, data: StockChangedData, eventId: string): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, applied_at, event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp(), $9)
       ON CONFLICT (warehouse_id, sku) DO UPDATE SET
         shard = EXCLUDED.shard, region = EXCLUDED.region, on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved,
         version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, applied_at = clock_timestamp(), event_id = EXCLUDED.event_id
       WHERE stock_replica.version < EXCLUDED.version
       RETURNING 1 AS changed`,
      [data.warehouseId, data.sku, data.shard, data.region, data.onHand, data.reserved, data.version, data.updatedAt, eventId],
    );
    return rows.length === 1;
  }

  /** On-hand of another region's row as last applied here; 0 when none was. */
  async onHand(tx: SqlTx, key: StockKey): Promise<number> {
    const [row] = await tx.query<{ on_hand: string }>(`SELECT on_hand FROM stock_replica WHERE warehouse_id = $1 AND sku = $2`, [
      key.warehouseId,
      key.sku,
    ]);
    return row ? Number(row.on_hand) : 0;
  }
}
