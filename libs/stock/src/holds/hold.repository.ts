import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';
import type { StockKey } from '../stock.repository.js';

export type HoldStatus = 'held' | 'committed' | 'released';

export interface HoldRecord extends StockKey {
  readonly id: string;
  readonly reservationId: string;
  readonly quantity: number;
  readonly status: HoldStatus;
}

interface HoldRow {
  id: string;
  reservation_id: string;
  warehouse_id: string;
  sku: string;
  quantity: string;
  status: HoldStatus;
}

const toRecord = (r: HoldRow): HoldRecord => ({
  id: r.id,
  reservationId: r.reservation_id,
  warehouseId: r.warehouse_id,
  sku: r.sku,
  quantity: Number(r.quantity),
  status: r.status,
});

/** The `holds` table of the database hosting the held row's shard. */
@Injectable()
export class HoldRepository {
  /** Inserts the hold as `held`, or returns `false` when a hold with this id exists (in any state). */
  async insert(tx: SqlTx, hold: Omit<HoldRecord, 'status'>): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status) VALUES ($1, $2, $3, $4, $5, 'held')
       ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted`,
      [hold.id, hold.reservationId, hold.warehouseId, hold.sku, hold.quantity],
    );
    return rows.length === 1;
  }

  /** Moves a `held` hold to `to`; returns it, or `undefined` if it was not `held`. */
  async transition(tx: SqlTx, id: string, to: 'committed' | 'released'): Promise<HoldRecord | undefined> {
    const [row] = await tx.query<HoldRow>(
      `UPDATE holds SET status = $2, updated_at = now() WHERE id = $1 AND status = 'held'
       RETURNING id, reservation_id, warehouse_id, sku, quantity, status`,
      [id, to],
    );
    return row && toRecord(row);
  }

  async find(tx: SqlTx, id: string): Promise<HoldRecord | undefined> {
    const [row] = await tx.query<HoldRow>(`SELECT id, reservation_id, warehouse_id, sku, quantity, status FROM holds WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  /**
   * Records that a hold never seen here is released, so that it can never be placed afterwards.
   * Returns `false` when a hold with this id exists after all: the INSERT waits for a place still
   * in flight with the same id and, once that commits, does nothing.
   */
  async tombstone(tx: SqlTx, hold: Omit<HoldRecord, 'status' | 'quantity'>): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status) VALUES ($1, $2, $3, $4, 0, 'released')
       ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted`,
      [hold.id, hold.reservationId, hold.warehouseId, hold.sku],
    );
    return rows.length === 1;
  }
}
