import { Injectable } from '@nestjs/common';
import type { TransferData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';

export type TransferStatus = 'pending' | 'completed' | 'returned';

/** A transfer as its source region records it. */
export interface TransferRecord {
  readonly id: string;
  readonly sku: string;
  readonly shard: number;
  readonly fromWarehouseId: string;
  readonly fromRegion: string;
  readonly toWarehouseId: string;
  readonly toRegion: string;
  readonly quantity: number;
  readonly status: TransferStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface TransferRow {
  id: string;
  sku: string;
  shard: number;
  from_warehouse_id: string;
  from_region: string;
  to_warehouse_id: string;
  to_region: string;
  quantity: string;
  status: TransferStatus;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, sku, shard, from_warehouse_id, from_region, to_warehouse_id, to_region, quantity, status, created_at, updated_at';

// bigint arrives as a string; a quantity is at most MAX_QUANTITY, far below 2^53.
const toRecord = (r: TransferRow): TransferRecord => ({
  id: r.id,
  sku: r.sku,
  shard: r.shard,
  fromWarehouseId: r.from_warehouse_id,
  fromRegion: r.from_region,
  toWarehouseId: r.to_warehouse_id,
  toRegion: r.to_region,
  quantity: Number(r.quantity),
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * The `transfers` table (at the source's owner) and `transfer_receipts` (at the destination's
 * owner), in the database hosting the SKU's shard.
 */
@Injectable()
export class TransferRepository {
  async insert(tx: SqlTx, t: Omit<TransferRecord, 'createdAt' | 'updatedAt'>): Promise<TransferRecord> {
    const [row] = await tx.query<TransferRow>(
      `INSERT INTO transfers (id, sku, shard, from_warehouse_id, from_region, to_warehouse_id, to_region, quantity, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [t.id, t.sku, t.shard, t.fromWarehouseId, t.fromRegion, t.toWarehouseId, t.toRegion, t.quantity, t.status],
    );
    return toRecord(row);
  }

  async find(tx: SqlTx, id: string): Promise<TransferRecord | undefined> {
    const [row] = await tx.query<TransferRow>(`SELECT ${COLUMNS} FROM transfers WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  /** The transfer if it is still `pending`, locked until the transaction ends; `undefined` otherwise. */
  async lockPending(tx: SqlTx, id: string): Promise<TransferRecord | undefined> {
    const [row] = await tx.query<TransferRow>(`SELECT ${COLUMNS} FROM transfers WHERE id = $1 AND status = 'pending' FOR UPDATE`, [id]);
    return row && toRecord(row);
  }

  /** Moves a pending transfer to its end state. */
  async settle(tx: SqlTx, id: string, to: 'completed' | 'returned'): Promise<void> {
    await tx.query(`UPDATE transfers SET status = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`, [id, to]);
  }

  /**
   * Claims the transfer for the destination: inserts its receipt (as `received`), or returns
   * `undefined` when the transfer was settled here before (a re-delivered event). Only the
   * claimer moves units, so a transfer is applied exactly once. Resolves the receipt's time.
   */
  async claimReceipt(tx: SqlTx, t: TransferData): Promise<Date | undefined> {
    const [row] = await tx.query<{ received_at: Date }>(
      `INSERT INTO transfer_receipts (transfer_id, sku, from_warehouse_id, from_region, to_warehouse_id, quantity, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, 'received')
       ON CONFLICT (transfer_id) DO NOTHING RETURNING received_at`,
      [t.transferId, t.sku, t.fromWarehouseId, t.fromRegion, t.toWarehouseId, t.quantity],
    );
    return row?.received_at;
  }

  /**
   * Deletes up to `limit` receipts written before `cutoff`, oldest first (through
   * `transfer_receipts_by_age`). A receipt is written when the destination settles its transfer;
   * the retention must outlive every copy of the transfer's events, or one delivered again after
   * its receipt is gone would be applied twice.
   */
  async pruneReceipts(tx: SqlTx, cutoff: Date, limit: number): Promise<number> {
    const rows = await tx.query(
      `DELETE FROM transfer_receipts
        WHERE transfer_id = ANY(ARRAY(
          SELECT transfer_id FROM transfer_receipts WHERE received_at < $1 ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED))
       RETURNING 1 AS deleted`,
      [cutoff, limit],
    );
    return rows.length;
  }

  /** The destination could not hold the units: its claimed receipt says so (same transaction). */
  async refuseReceipt(tx: SqlTx, transferId: string): Promise<void> {
    await tx.query(`UPDATE transfer_receipts SET outcome = 'refused' WHERE transfer_id = $1`, [transferId]);
  }
}
