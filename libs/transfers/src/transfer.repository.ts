import { Injectable } from '@nestjs/common';
import type { TransferData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';

/** Every state a transfer can be in, as the `transfers_status_check` constraint has them. */
export const TRANSFER_STATUSES = ['pending', 'completed', 'returned', 'cancelled', 'failed'] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

/** Where a page of transfers, newest first, continues: strictly before this (created_at, id). */
export interface TransferPosition {
  /** `created_at` in microseconds since the epoch: a JavaScript Date would drop the microseconds and repeat rows. */
  readonly createdAtMicros: string;
  readonly id: string;
}

/** What the destination's owner made of a transfer: its receipt, or its tombstone when it never received it. */
export type ReceiptOutcome = 'received' | 'refused' | 'cancelled';

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
  /** When the reconciler next looks at it (pending transfers across regions only). */
  readonly nextCheckAt: Date | null;
  /** How often the reconciler looked at it. */
  readonly checkAttempts: number;
  /** The destination's decision, kept while the units wait for room in the source row. */
  readonly resolution: 'refused' | 'cancelled' | null;
  /** Why it ended `cancelled` or `failed`. */
  readonly statusReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type NewTransferRecord = Omit<TransferRecord, 'createdAt' | 'updatedAt' | 'checkAttempts' | 'resolution' | 'statusReason'>;

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
  next_check_at: Date | null;
  check_attempts: number;
  resolution: 'refused' | 'cancelled' | null;
  status_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, sku, shard, from_warehouse_id, from_region, to_warehouse_id, to_region, quantity, status, next_check_at, check_attempts, resolution, status_reason, created_at, updated_at';

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
  nextCheckAt: r.next_check_at,
  checkAttempts: r.check_attempts,
  resolution: r.resolution,
  statusReason: r.status_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A receipt as the destination's owner holds it. */
export interface ReceiptRecord {
  readonly outcome: ReceiptOutcome;
  readonly sku: string;
  readonly fromWarehouseId: string;
  readonly toWarehouseId: string;
  readonly quantity: number;
}

/**
 * The `transfers` table (at the source's owner) and `transfer_receipts` (at the destination's
 * owner), in the database hosting the SKU's shard.
 */
@Injectable()
export class TransferRepository {
  async insert(tx: SqlTx, t: NewTransferRecord): Promise<TransferRecord> {
    const [row] = await tx.query<TransferRow>(
      `INSERT INTO transfers (id, sku, shard, from_warehouse_id, from_region, to_warehouse_id, to_region, quantity, status, next_check_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
      [t.id, t.sku, t.shard, t.fromWarehouseId, t.fromRegion, t.toWarehouseId, t.toRegion, t.quantity, t.status, t.nextCheckAt],
    );
    return toRecord(row);
  }

  async find(tx: SqlTx, id: string): Promise<TransferRecord | undefined> {
    const [row] = await tx.query<TransferRow>(`SELECT ${COLUMNS} FROM transfers WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  /**
   * Up to `limit` transfers recorded in this database, newest first (`created_at`, then id in byte
   * order, both descending), strictly after `before` in that order; only those in `status` when
   * given. Keyset paging on the index `transfers_newest`: a page never repeats or skips a row.
   */
  async pageNewest(
    tx: SqlTx,
    status: TransferStatus | null,
    before: TransferPosition | null,
    limit: number,
  ): Promise<(TransferRecord & { position: TransferPosition })[]> {
    const rows = await tx.query<TransferRow & { created_us: string }>(
      `SELECT ${COLUMNS}, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us FROM transfers
        WHERE ($1::text IS NULL OR status = $1)
          AND ($2::bigint IS NULL
               OR (created_at, id COLLATE "C") < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::text))
        ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $4`,
      [status, before?.createdAtMicros ?? null, before?.id ?? null, limit],
    );
    return rows.map((r) => ({ ...toRecord(r), position: { createdAtMicros: r.created_us, id: r.id } }));
  }

  /** The transfer if it is still `pending`, locked until the transaction ends; `undefined` otherwise. */
  async lockPending(tx: SqlTx, id: string): Promise<TransferRecord | undefined> {
    const [row] = await tx.query<TransferRow>(`SELECT ${COLUMNS} FROM transfers WHERE id = $1 AND status = 'pending' FOR UPDATE`, [id]);
    return row && toRecord(row);
  }

  /** Moves a pending transfer to its end state. */
  async settle(tx: SqlTx, id: string, to: Exclude<TransferStatus, 'pending'>, reason: string | null = null): Promise<TransferRecord> {
    const [row] = await tx.query<TransferRow>(
      `UPDATE transfers SET status = $2, status_reason = $3, next_check_at = NULL, updated_at = now()
       WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [id, to, reason],
    );
    return toRecord(row);
  }

  /**
   * Keeps what the destination decided about a transfer whose units cannot go back into the
   * source row yet; the reconciler retries the return (see `claimDue`).
   */
  async keepResolution(tx: SqlTx, id: string, resolution: 'refused' | 'cancelled'): Promise<void> {
    await tx.query(`UPDATE transfers SET resolution = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`, [id, resolution]);
  }

  /**
   * Claims up to `limit` pending transfers due at `now` for one reconciler: each is pushed back
   * by its own backoff (`backoffMs` doubled per earlier attempt, at most `maxBackoffMs`) and its
   * attempts counted, in one statement. SKIP LOCKED lets several instances of the region claim
   * at once without waiting for or sharing a transfer; a claimed transfer is not due again until
   * its backoff has passed, so a transfer whose destination does not answer never starves the
   * others. Uses the index `transfers_due`: the cost follows the open transfers, not history.
   */
  async claimDue(tx: SqlTx, now: Date, limit: number, backoffMs: number, maxBackoffMs: number): Promise<TransferRecord[]> {
    const rows = await tx.query<TransferRow>(
      `UPDATE transfers t
       SET next_check_at = $1::timestamptz + least($3::float8 * power(2, least(t.check_attempts, 30)), $4::float8) * interval '1 millisecond',
           check_attempts = t.check_attempts + 1
       WHERE t.id IN (
         SELECT id FROM transfers
         WHERE status = 'pending' AND next_check_at <= $1
         ORDER BY next_check_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS.split(', ')
         .map((c) => `t.${c}`)
         .join(', ')}`,
      [now, limit, backoffMs, maxBackoffMs],
    );
    return rows.map(toRecord);
  }

  /**
   * Claims the transfer for the destination: inserts its receipt (as `received`), or returns
   * `undefined` when the transfer was settled here before (a re-delivered event) or cancelled
   * (see `claimTombstone`). Only the claimer moves units, so a transfer is applied exactly once.
   * Resolves the receipt's time.
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

  /**
   * At the destination, for a source that wants to end a transfer: claims the transfer id with a
   * `cancelled` tombstone if nothing claimed it yet, and answers what holds for it now. The
   * tombstone takes the receipt's primary key, so a dispatched event applied later finds it and
   * adds nothing; a receipt being inserted by a concurrent transaction makes this INSERT wait
   * for it and then do nothing, and the SELECT (a new statement, a new snapshot) reads that
   * committed receipt. Exactly one of receipt and cancel wins.
   */
  async claimTombstone(tx: SqlTx, t: TransferData): Promise<ReceiptRecord> {
    // A receipt being applied right now is waited for, but not for long: the waiting request
    // holds a pooled connection that the receipt's own transaction may need (55P03 then; the
    // source asks again later).
    await tx.query(`SET LOCAL lock_timeout = '1s'`);
    await tx.query(
      `INSERT INTO transfer_receipts (transfer_id, sku, from_warehouse_id, from_region, to_warehouse_id, quantity, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, 'cancelled')
       ON CONFLICT (transfer_id) DO NOTHING`,
      [t.transferId, t.sku, t.fromWarehouseId, t.fromRegion, t.toWarehouseId, t.quantity],
    );
    const [row] = await tx.query<{
      outcome: ReceiptOutcome;
      sku: string;
      from_warehouse_id: string;
      to_warehouse_id: string;
      quantity: string;
    }>(`SELECT outcome, sku, from_warehouse_id, to_warehouse_id, quantity FROM transfer_receipts WHERE transfer_id = $1`, [t.transferId]);
    return {
      outcome: row.outcome,
      sku: row.sku,
      fromWarehouseId: row.from_warehouse_id,
      toWarehouseId: row.to_warehouse_id,
      quantity: Number(row.quantity),
    };
  }
}
