import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';
import type { StockKey } from '../stock.repository.js';

export type HoldStatus = 'held' | 'committed' | 'released';

export interface HoldRecord extends StockKey {
  readonly id: string;
  readonly reservationId: string;
  readonly quantity: number;
  readonly status: HoldStatus;
  /** Until when the owner keeps the hold without hearing from its coordinator (null for a tombstone). */
  readonly expiresAt: Date | null;
  /** Of a committed hold, the units that left on-hand when fewer than all (a partial commit). */
  readonly committedQuantity?: number;
  /**
   * Of the hold's units (or, committed, of those it committed), the ones not on hand yet: promised
   * out of the row's incoming receipts, filled as units are received (see BackorderFill). 0 for a
   * hold placed from on-hand units alone, and for a released one.
   */
  readonly backordered: number;
}

interface HoldRow {
  id: string;
  reservation_id: string;
  warehouse_id: string;
  sku: string;
  quantity: string;
  status: HoldStatus;
  expires_at: Date | null;
  committed_quantity: string | null;
  backordered: string;
}

const HOLD_COLUMNS = 'id, reservation_id, warehouse_id, sku, quantity, status, expires_at, committed_quantity, backordered';

const toRecord = (r: HoldRow): HoldRecord => ({
  id: r.id,
  reservationId: r.reservation_id,
  warehouseId: r.warehouse_id,
  sku: r.sku,
  quantity: Number(r.quantity),
  status: r.status,
  expiresAt: r.expires_at,
  ...(r.committed_quantity === null ? {} : { committedQuantity: Number(r.committed_quantity) }),
  backordered: Number(r.backordered),
});

/** The `holds` table of the database hosting the held row's shard. */
@Injectable()
export class HoldRepository {
  /** Inserts the hold as `held`, or returns `false` when a hold with this id exists (in any state). */
  async insert(tx: SqlTx, hold: Omit<HoldRecord, 'status'> & { readonly expiresAt: Date }): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status, expires_at) VALUES ($1, $2, $3, $4, $5, 'held', $6)
       ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted`,
      [hold.id, hold.reservationId, hold.warehouseId, hold.sku, hold.quantity, hold.expiresAt],
    );
    return rows.length === 1;
  }

  /**
   * `insert` for many holds in one statement (their ids distinct): inserts each as `held` unless
   * a hold with its id exists, and returns the ids it inserted.
   */
  async insertMany(tx: SqlTx, holds: readonly (Omit<HoldRecord, 'status'> & { readonly expiresAt: Date })[]): Promise<Set<string>> {
    const rows = await tx.query<{ id: string }>(
      `INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status, expires_at)
       SELECT id, reservation_id, warehouse_id, sku, quantity, 'held', expires_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[])
              AS h(id, reservation_id, warehouse_id, sku, quantity, expires_at)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        holds.map((h) => h.id),
        holds.map((h) => h.reservationId),
        holds.map((h) => h.warehouseId),
        holds.map((h) => h.sku),
        holds.map((h) => h.quantity),
        holds.map((h) => h.expiresAt),
      ],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Deletes holds this transaction inserted and then refused (nothing else may be passed). */
  async deleteMany(tx: SqlTx, ids: readonly string[]): Promise<void> {
    await tx.query(`DELETE FROM holds WHERE id = ANY($1::text[])`, [ids]);
  }

  /** The holds with these ids that exist, by id. */
  async findMany(tx: SqlTx, ids: readonly string[]): Promise<Map<string, HoldRecord>> {
    const rows = await tx.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = ANY($1::text[])`, [ids]);
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /** Moves a `held` hold to `to`; returns it, or `undefined` if it was not `held`. */
  async transition(tx: SqlTx, id: string, to: 'committed' | 'released'): Promise<HoldRecord | undefined> {
    const [row] = await tx.query<HoldRow>(
      `UPDATE holds SET status = $2, updated_at = now() WHERE id = $1 AND status = 'held' RETURNING ${HOLD_COLUMNS}`,
      [id, to],
    );
    return row && toRecord(row);
  }

  /** Sets how many units of each hold are backordered (holds this transaction placed, or ended). */
  async setBackordered(tx: SqlTx, holds: readonly { readonly id: string; readonly backordered: number }[]): Promise<void> {
    if (holds.length === 0) return;
    // updated_at moves too: a committed hold's retention counts from its last fill (see pruneFinished).
    await tx.query(
      `UPDATE holds h SET backordered = v.b, updated_at = now() FROM unnest($1::text[], $2::bigint[]) AS v(id, b) WHERE h.id = v.id`,
      [holds.map((h) => h.id), holds.map((h) => h.backordered)],
    );
  }

  /**
   * The held or committed holds of a row with backordered units, oldest first, locked: what units
   * received fill. Holds another transaction has locked (a commit or a release of them in flight)
   * are skipped, never waited for: this runs with the row locked, and they lock the hold first.
   */
  async lockBackordered(tx: SqlTx, key: StockKey): Promise<HoldRecord[]> {
    const rows = await tx.query<HoldRow>(
      `SELECT ${HOLD_COLUMNS} FROM holds
        WHERE warehouse_id = $1 AND sku = $2 AND backordered > 0 AND status IN ('held', 'committed')
        ORDER BY created_at, id FOR UPDATE SKIP LOCKED`,
      [key.warehouseId, key.sku],
    );
    return rows.map(toRecord);
  }

  /** Records that a hold just committed took only `units` of its quantity (a partial commit). */
  async recordPartialCommit(tx: SqlTx, id: string, units: number): Promise<void> {
    await tx.query(`UPDATE holds SET committed_quantity = $2 WHERE id = $1 AND status = 'committed'`, [id, units]);
  }

  /** Keeps a `held` hold at least until `expiresAt` (never shortens it); `undefined` if it is not held. */
  async extend(tx: SqlTx, id: string, expiresAt: Date): Promise<HoldRecord | undefined> {
    const [row] = await tx.query<HoldRow>(
      `UPDATE holds SET expires_at = GREATEST(expires_at, $2), updated_at = now() WHERE id = $1 AND status = 'held'
       RETURNING ${HOLD_COLUMNS}`,
      [id, expiresAt],
    );
    return row && toRecord(row);
  }

  /**
   * Marks released up to `limit` holds still held that expired before `cutoff`, oldest first, and
   * returns them. Walks the partial index `holds_expiring`, so it costs what it releases, not
   * the table's history. Rows another instance's sweeper (or a commit or release) has locked are
   * skipped, so concurrent sweepers share the work and each hold is released once.
   */
  async releaseExpired(tx: SqlTx, cutoff: Date, limit: number): Promise<HoldRecord[]> {
    const rows = await tx.query<HoldRow>(
      `UPDATE holds SET status = 'released', updated_at = now()
        WHERE status = 'held' AND id IN (
          SELECT id FROM holds WHERE status = 'held' AND expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING ${HOLD_COLUMNS}`,
      [cutoff, limit],
    );
    return rows.map(toRecord);
  }

  /**
   * Deletes up to `limit` committed or released holds (release tombstones too) that ended before
   * `cutoff`, oldest first, through `holds_finished`. A held hold never matches, however old; nor
   * does a committed one still waiting for backordered units (a sale its receipt must still fill).
   */
  async pruneFinished(tx: SqlTx, cutoff: Date, limit: number): Promise<number> {
    const rows = await tx.query(
      `DELETE FROM holds
        WHERE status <> 'held' AND backordered = 0 AND id = ANY(ARRAY(
          SELECT id FROM holds WHERE status <> 'held' AND backordered = 0 AND updated_at < $1
           ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED))
       RETURNING 1 AS deleted`,
      [cutoff, limit],
    );
    return rows.length;
  }

  /**
   * Up to `limit` holds still held that were placed before `placedBefore`, in id order after
   * `afterId` (a page of the owner's audit). Served from the partial index `holds_expiring`
   * (held holds only), so it costs the open holds, not the table's history.
   */
  async listHeld(tx: SqlTx, placedBefore: Date, afterId: string, limit: number): Promise<HoldRecord[]> {
    const rows = await tx.query<HoldRow>(
      `SELECT ${HOLD_COLUMNS} FROM holds WHERE status = 'held' AND expires_at IS NOT NULL AND created_at < $1 AND id > $2
        ORDER BY id LIMIT $3`,
      [placedBefore, afterId, limit],
    );
    return rows.map(toRecord);
  }

  async find(tx: SqlTx, id: string): Promise<HoldRecord | undefined> {
    const [row] = await tx.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  /**
   * Records that a hold never seen here is released, so that it can never be placed afterwards.
   * Returns `false` when a hold with this id exists after all: the INSERT waits for a place still
   * in flight with the same id and, once that commits, does nothing.
   */
  async tombstone(tx: SqlTx, hold: Pick<HoldRecord, 'id' | 'reservationId' | 'warehouseId' | 'sku'>): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status) VALUES ($1, $2, $3, $4, 0, 'released')
       ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted`,
      [hold.id, hold.reservationId, hold.warehouseId, hold.sku],
    );
    return rows.length === 1;
  }
}
