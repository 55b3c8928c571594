import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';
import type { BucketDigest } from './anti-entropy/bucket-digest.js';
import { bucketDigestSql } from './anti-entropy/stock-digest.sql.js';
import type { IncomingReceipt } from './incoming-stock/incoming-receipts.js';
import type { StockLevel } from './stock-level.js';
import type { LedgerEntryView, MovementView } from './stock.views.js';

/** What a ledger entry records: a count, an adjustment, a step of a reservation's hold, or a leg of a transfer. */
export type MovementKind = 'set' | 'adjustment' | 'hold' | 'commit' | 'release' | 'transfer-out' | 'transfer-in' | 'transfer-return';

/** Identifies a stock row. */
export interface StockKey {
  readonly warehouseId: string;
  readonly sku: string;
}

/** A stock row as stored. */
export interface StockRecord extends StockKey, StockLevel {
  readonly region: string;
  /** Open incoming receipts, by expected day then id (see incoming-receipts.ts). */
  readonly incoming: readonly IncomingReceipt[];
  readonly updatedAt: Date;
}

/**
 * A row of the region's own `stock` table: the replicated state, and the owner-only low-stock
 * alert setting and state (docs/events.md, "Stock alerts"), which no other region holds.
 */
export interface OwnStockRecord extends StockRecord {
  /** 0: no alerts. */
  readonly lowStockThreshold: number;
  /** Whether the owner last announced the row as low (`stock.low`, until `stock.back-in-stock`). */
  readonly lowStock: boolean;
}

/** A `stock` (or `stock_replica`) row as pg returns it. */
export interface StockRow {
  warehouse_id: string;
  sku: string;
  region: string;
  on_hand: string;
  reserved: string;
  safety_stock: string;
  /** jsonb: pg parses it. */
  incoming: IncomingReceipt[];
  backordered: string;
  version: string;
  updated_at: Date;
}

interface OwnStockRow extends StockRow {
  low_stock_threshold: string;
  low_stock: boolean;
}

interface MovementRow {
  seq: string;
  id: string;
  warehouse_id: string;
  sku: string;
  kind: MovementKind;
  delta: string;
  reason: string;
  on_hand_after: string;
  reserved_after: string;
  safety_stock_after: string;
  version: string;
  actor: string;
  request_id: string | null;
  idempotency_key: string | null;
  created_at: Date;
}

export interface NewMovement extends StockKey {
  readonly shard: number;
  readonly kind: MovementKind;
  readonly delta: number;
  readonly reason: string;
  readonly after: StockLevel;
  readonly actor: string;
  readonly requestId: string | null;
  readonly idempotencyKey: string | null;
}

const STOCK_COLUMNS =
  'warehouse_id, sku, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at, low_stock_threshold, low_stock';
/** STOCK_COLUMNS of the table aliased `s`. */
const S_STOCK_COLUMNS = STOCK_COLUMNS.split(', ')
  .map((c) => `s.${c}`)
  .join(', ');
const MOVEMENT_COLUMNS =
  'seq, id, warehouse_id, sku, kind, delta, reason, on_hand_after, reserved_after, safety_stock_after, version, actor, request_id, idempotency_key, created_at';

// bigint columns arrive as strings; every quantity is bounded by MAX_QUANTITY, far below 2^53.
export const toRecord = (r: StockRow): StockRecord => ({
  warehouseId: r.warehouse_id,
  sku: r.sku,
  region: r.region,
  onHand: Number(r.on_hand),
  reserved: Number(r.reserved),
  safetyStock: Number(r.safety_stock),
  incoming: r.incoming,
  backordered: Number(r.backordered),
  version: Number(r.version),
  updatedAt: r.updated_at,
});

const toOwnRecord = (r: OwnStockRow): OwnStockRecord => ({
  ...toRecord(r),
  lowStockThreshold: Number(r.low_stock_threshold),
  lowStock: r.low_stock,
});

const toMovement = (r: MovementRow): MovementView => ({
  id: r.id,
  seq: r.seq,
  warehouseId: r.warehouse_id,
  sku: r.sku,
  kind: r.kind,
  delta: Number(r.delta),
  reason: r.reason,
  onHandAfter: Number(r.on_hand_after),
  reservedAfter: Number(r.reserved_after),
  safetyStockAfter: Number(r.safety_stock_after),
  version: Number(r.version),
  actor: r.actor,
  requestId: r.request_id,
  idempotencyKey: r.idempotency_key,
  createdAt: r.created_at.toISOString(),
});

// The Idempotency-Key stays in the table (the events carry it) but never reaches the public ledger.
const toLedgerEntry = (r: MovementRow): LedgerEntryView => {
  const { idempotencyKey: _ownersOnly, ...entry } = toMovement(r);
  return entry;
};

/** The `stock` and `stock_movements` tables of the database hosting a shard. */
@Injectable()
export class StockRepository {
  /** The row, locked until the transaction ends, or `undefined`. */
  async lock(tx: SqlTx, key: StockKey): Promise<OwnStockRecord | undefined> {
    const [row] = await tx.query<OwnStockRow>(`SELECT ${STOCK_COLUMNS} FROM stock WHERE warehouse_id = $1 AND sku = $2 FOR UPDATE`, [
      key.warehouseId,
      key.sku,
    ]);
    return row && toOwnRecord(row);
  }

  /**
   * Makes sure the row exists so that it can be locked: an empty row at version 0. Concurrent
   * creators meet on the primary key; the loser's insert does nothing. The caller's transaction
   * always bumps the version, or rolls back and the empty row goes with it.
   */
  async createEmpty(tx: SqlTx, key: StockKey, shard: number, region: string): Promise<void> {
    await tx.query(
      `INSERT INTO stock (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at)
       VALUES ($1, $2, $3, $4, 0, 0, 0, now()) ON CONFLICT (warehouse_id, sku) DO NOTHING`,
      [key.warehouseId, key.sku, shard, region],
    );
  }

  /**
   * Writes the quantities and the low-stock threshold of a locked row, and its incoming receipts
   * when given (else they stay). A threshold of 0 (alerts off) clears `low_stock` in the same
   * statement (the row's CHECK: never low without a threshold): turning the alerts off ends a low
   * state without an event.
   */
  async save(
    tx: SqlTx,
    key: StockKey,
    level: StockLevel,
    lowStockThreshold: number,
    incoming?: readonly IncomingReceipt[],
  ): Promise<OwnStockRecord> {
    const [row] = await tx.query<OwnStockRow>(
      `UPDATE stock SET on_hand = $3, reserved = $4, safety_stock = $5, version = $6, low_stock_threshold = $7::bigint,
                        low_stock = low_stock AND $7::bigint > 0, incoming = coalesce($8::jsonb, incoming), backordered = $9,
                        updated_at = now()
       WHERE warehouse_id = $1 AND sku = $2 RETURNING ${STOCK_COLUMNS}`,
      [
        key.warehouseId,
        key.sku,
        level.onHand,
        level.reserved,
        level.safetyStock,
        level.version,
        lowStockThreshold,
        incoming === undefined ? null : JSON.stringify(incoming),
        level.backordered,
      ],
    );
    return toOwnRecord(row);
  }

  /**
   * A hold alone, in one statement: inserts it as `held` unless a hold with its id exists, and
   * only then reserves its `quantity` units if the row has them, with a conditional update that
   * cannot take more than `on_hand - reserved - safety_stock` (the safety stock stays untouched),
   * or, when `mayUseSafetyStock`, more than `on_hand - reserved`, however many holds race for the
   * row. `inserted` false: the hold existed and nothing changed. `inserted` true without `row`:
   * the units were not there, and the caller must roll the transaction back (the hold row is in
   * it). One round trip instead of two.
   */
  async insertHoldAndReserve(
    tx: SqlTx,
    hold: StockKey & { readonly id: string; readonly reservationId: string; readonly quantity: number; readonly expiresAt: Date },
    mayUseSafetyStock: boolean,
  ): Promise<{ readonly inserted: boolean; readonly row?: OwnStockRecord }> {
    const [result] = await tx.query<{ inserted: boolean } & (OwnStockRow | { [K in keyof OwnStockRow]: null })>(
      `WITH hold AS (
         INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status, expires_at) VALUES ($5, $6, $1, $2, $3, 'held', $7)
         ON CONFLICT (id) DO NOTHING RETURNING 1
       ), reserved AS (
         UPDATE stock SET reserved = reserved + $3, version = version + 1, updated_at = now()
          WHERE warehouse_id = $1 AND sku = $2 AND on_hand - reserved - (CASE WHEN $4 THEN 0 ELSE safety_stock END) >= $3
            AND EXISTS (SELECT 1 FROM hold)
          RETURNING ${STOCK_COLUMNS}
       )
       SELECT EXISTS (SELECT 1 FROM hold) AS inserted, r.* FROM (SELECT 1) AS one LEFT JOIN reserved r ON true`,
      [hold.warehouseId, hold.sku, hold.quantity, mayUseSafetyStock, hold.id, hold.reservationId, hold.expiresAt],
    );
    const { inserted, ...row } = result!;
    return { inserted, ...(row.warehouse_id !== null ? { row: toOwnRecord(row as OwnStockRow) } : {}) };
  }

  /**
   * Sets `reserved` and `version` of rows this transaction has locked (lockMany) to what was
   * decided for them, in one statement; returns the rows as they now are.
   */
  async setReserved(
    tx: SqlTx,
    rows: readonly (StockKey & { readonly reserved: number; readonly backordered: number; readonly version: number })[],
  ): Promise<OwnStockRecord[]> {
    const updated = await tx.query<OwnStockRow>(
      `UPDATE stock AS s SET reserved = v.reserved, backordered = v.backordered, version = v.version, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS v(w, k, reserved, version, backordered)
        WHERE s.warehouse_id = v.w AND s.sku = v.k
        RETURNING ${S_STOCK_COLUMNS}`,
      [
        rows.map((r) => r.warehouseId),
        rows.map((r) => r.sku),
        rows.map((r) => r.reserved),
        rows.map((r) => r.version),
        rows.map((r) => r.backordered),
      ],
    );
    return updated.map(toOwnRecord);
  }

  /** Turns held units into a sale: they leave on-hand and reserved. The CHECKs keep reserved >= 0. */
  async consumeReserved(tx: SqlTx, key: StockKey, quantity: number): Promise<OwnStockRecord> {
    const [row] = await tx.query<OwnStockRow>(
      `UPDATE stock SET on_hand = on_hand - $3, reserved = reserved - $3, version = version + 1, updated_at = now()
       WHERE warehouse_id = $1 AND sku = $2 RETURNING ${STOCK_COLUMNS}`,
      [key.warehouseId, key.sku, quantity],
    );
    return toOwnRecord(row);
  }

  /**
   * Takes `quantity` units out of on-hand for a transfer, in one conditional statement: on-hand
   * never drops below what is reserved (nor below zero), however many writers race for the row,
   * so a transfer can never take units a reservation holds. The safety stock does not bound it:
   * it keeps units from storefront holds, not from the warehouse's own operations (as counts and
   * adjustments). `undefined` when fewer units are unreserved (or there is no row); nothing
   * changed then.
   */
  async takeOutIfAvailable(tx: SqlTx, key: StockKey, quantity: number): Promise<OwnStockRecord | undefined> {
    const [row] = await tx.query<OwnStockRow>(
      `UPDATE stock SET on_hand = on_hand - $3, version = version + 1, updated_at = now()
       WHERE warehouse_id = $1 AND sku = $2 AND on_hand - reserved >= $3
       RETURNING ${STOCK_COLUMNS}`,
      [key.warehouseId, key.sku, quantity],
    );
    return row && toOwnRecord(row);
  }

  /**
   * Adds `quantity` units to on-hand for a transfer, in one conditional statement: on-hand never
   * exceeds `max` (MAX_QUANTITY, the bound every stock event promises its consumers). The row
   * must exist (see `createEmpty`). `undefined` when it would exceed; nothing changed then.
   */
  async putInIfRoom(tx: SqlTx, key: StockKey, quantity: number, max: number): Promise<OwnStockRecord | undefined> {
    const [row] = await tx.query<OwnStockRow>(
      `UPDATE stock SET on_hand = on_hand + $3, version = version + 1, updated_at = now()
       WHERE warehouse_id = $1 AND sku = $2 AND on_hand + $3 <= $4
       RETURNING ${STOCK_COLUMNS}`,
      [key.warehouseId, key.sku, quantity, max],
    );
    return row && toOwnRecord(row);
  }

  /**
   * Locks rows of one SKU in warehouse order until the transaction ends. A transaction that
   * changes two rows takes both locks first, in this one order: two transfers between the same
   * warehouses in opposite directions would otherwise each hold one row and wait for the other.
   */
  async lockInOrder(tx: SqlTx, sku: string, warehouseIds: readonly string[]): Promise<void> {
    await tx.query(`SELECT 1 FROM stock WHERE sku = $1 AND warehouse_id = ANY($2::text[]) ORDER BY warehouse_id FOR UPDATE`, [
      sku,
      [...warehouseIds],
    ]);
  }

  /** Gives held units back to available, and `backordered` units back to what incoming stock can still promise. */
  async unreserve(tx: SqlTx, key: StockKey, quantity: number, backordered = 0): Promise<OwnStockRecord> {
    const [row] = await tx.query<OwnStockRow>(
      `UPDATE stock SET reserved = reserved - $3, backordered = backordered - $4, version = version + 1, updated_at = now()
       WHERE warehouse_id = $1 AND sku = $2 RETURNING ${STOCK_COLUMNS}`,
      [key.warehouseId, key.sku, quantity, backordered],
    );
    return toOwnRecord(row);
  }

  /**
   * `createEmpty` for many rows at once (a batch), in key order: two batches over the same rows
   * take the primary key's locks in one order and wait on each other rather than deadlock.
   */
  async createEmptyMany(tx: SqlTx, rows: readonly (StockKey & { readonly shard: number })[], region: string): Promise<void> {
    if (rows.length === 0) return;
    await tx.query(
      `INSERT INTO stock (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at)
       SELECT warehouse_id, sku, shard, $4, 0, 0, 0, now()
         FROM unnest($1::text[], $2::text[], $3::smallint[]) AS r(warehouse_id, sku, shard)
        ORDER BY warehouse_id, sku
       ON CONFLICT (warehouse_id, sku) DO NOTHING`,
      [rows.map((r) => r.warehouseId), rows.map((r) => r.sku), rows.map((r) => r.shard), region],
    );
  }

  /** `lock` for many rows at once, in key order (see `createEmptyMany`); rows that do not exist are missing from the answer. */
  async lockMany(tx: SqlTx, keys: readonly StockKey[]): Promise<OwnStockRecord[]> {
    if (keys.length === 0) return [];
    const rows = await tx.query<OwnStockRow>(
      `SELECT ${S_STOCK_COLUMNS}
         FROM stock s JOIN unnest($1::text[], $2::text[]) AS k(warehouse_id, sku) ON s.warehouse_id = k.warehouse_id AND s.sku = k.sku
        ORDER BY s.warehouse_id, s.sku
          FOR UPDATE OF s`,
      [keys.map((k) => k.warehouseId), keys.map((k) => k.sku)],
    );
    return rows.map(toOwnRecord);
  }

  /**
   * `save` for many locked rows at once, in one statement (a threshold of 0 clears `low_stock`, as there). The caller computed each level from
   * the row it holds locked, so nothing can have changed in between; each row's version is the
   * locked version plus one.
   */
  async saveMany(
    tx: SqlTx,
    rows: readonly (StockKey & { readonly level: StockLevel; readonly lowStockThreshold: number })[],
  ): Promise<OwnStockRecord[]> {
    if (rows.length === 0) return [];
    const saved = await tx.query<OwnStockRow>(
      `UPDATE stock s SET on_hand = r.on_hand, reserved = r.reserved, safety_stock = r.safety_stock, version = r.version,
                          low_stock_threshold = r.low_stock_threshold, low_stock = s.low_stock AND r.low_stock_threshold > 0,
                          updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
              AS r(warehouse_id, sku, on_hand, reserved, safety_stock, version, low_stock_threshold)
        WHERE s.warehouse_id = r.warehouse_id AND s.sku = r.sku
       RETURNING ${S_STOCK_COLUMNS}`,
      [
        rows.map((r) => r.warehouseId),
        rows.map((r) => r.sku),
        rows.map((r) => r.level.onHand),
        rows.map((r) => r.level.reserved),
        rows.map((r) => r.level.safetyStock),
        rows.map((r) => r.level.version),
        rows.map((r) => r.lowStockThreshold),
      ],
    );
    return saved.map(toOwnRecord);
  }

  /**
   * Records which rows the owner now announces as low (`stock.low`) or no longer (locked rows,
   * in the transaction of the change that crossed; see StockChangeOutbox). Only the flag changes:
   * not the version, so the row's `stock.changed` event stays its latest state.
   */
  async markLowStock(tx: SqlTx, rows: readonly (StockKey & { readonly lowStock: boolean })[]): Promise<void> {
    if (rows.length === 0) return;
    await tx.query(
      `UPDATE stock s SET low_stock = r.low_stock
         FROM unnest($1::text[], $2::text[], $3::boolean[]) AS r(warehouse_id, sku, low_stock)
        WHERE s.warehouse_id = r.warehouse_id AND s.sku = r.sku`,
      [rows.map((r) => r.warehouseId), rows.map((r) => r.sku), rows.map((r) => r.lowStock)],
    );
  }

  /**
   * Removes the empty rows (version 0) among `keys` that `createEmptyMany` made for changes that
   * were then refused: a refused row leaves no trace, as when a single change rolls back. The
   * caller holds their locks; a row with any change has a version above 0 and stays.
   */
  async deleteEmpty(tx: SqlTx, keys: readonly StockKey[]): Promise<void> {
    if (keys.length === 0) return;
    await tx.query(
      `DELETE FROM stock s USING unnest($1::text[], $2::text[]) AS k(warehouse_id, sku)
        WHERE s.warehouse_id = k.warehouse_id AND s.sku = k.sku AND s.version = 0`,
      [keys.map((k) => k.warehouseId), keys.map((k) => k.sku)],
    );
  }

  /**
   * `appendMovement` for many entries at once, in one statement. The entries come back in no
   * promised order: tell them apart by (warehouse, SKU, version), which is unique per row.
   */
  async appendMovements(tx: SqlTx, movements: readonly NewMovement[]): Promise<MovementView[]> {
    if (movements.length === 0) return [];
    const column = <T>(pick: (m: NewMovement) => T): T[] => movements.map(pick);
    const rows = await tx.query<MovementRow>(
      `INSERT INTO stock_movements (warehouse_id, sku, shard, kind, delta, reason, on_hand_after, reserved_after, safety_stock_after, version,
                                    actor, request_id, idempotency_key)
       SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[],
                            $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[])
       RETURNING ${MOVEMENT_COLUMNS}`,
      [
        column((m) => m.warehouseId),
        column((m) => m.sku),
        column((m) => m.shard),
        column((m) => m.kind),
        column((m) => m.delta),
        column((m) => m.reason),
        column((m) => m.after.onHand),
        column((m) => m.after.reserved),
        column((m) => m.after.safetyStock),
        column((m) => m.after.version),
        column((m) => m.actor),
        column((m) => m.requestId),
        column((m) => m.idempotencyKey),
      ],
    );
    return rows.map(toMovement);
  }

  /**
   * One page of a warehouse's own rows, by SKU, strictly after `afterSku`. Keyset paging on the
   * SKU: a page never repeats or skips a row that exists throughout, whatever changes meanwhile.
   * Byte order (`COLLATE "C"`), whatever the database's collation, so that the pages of several
   * databases merge in one order; the primary key narrows the scan to the warehouse's rows.
   * Empty rows of transactions in progress (version 0) are left out.
   */
  async pageOfWarehouse(tx: SqlTx, warehouseId: string, afterSku: string | null, limit: number): Promise<OwnStockRecord[]> {
    const rows = await tx.query<OwnStockRow>(
      `SELECT ${STOCK_COLUMNS} FROM stock
        WHERE warehouse_id = $1 AND ($2::text IS NULL OR sku COLLATE "C" > $2) AND version > 0
        ORDER BY sku COLLATE "C" LIMIT $3`,
      [warehouseId, afterSku, limit],
    );
    return rows.map(toOwnRecord);
  }

  async find(tx: SqlTx, key: StockKey): Promise<OwnStockRecord | undefined> {
    const [row] = await tx.query<OwnStockRow>(`SELECT ${STOCK_COLUMNS} FROM stock WHERE warehouse_id = $1 AND sku = $2 AND version > 0`, [
      key.warehouseId,
      key.sku,
    ]);
    return row && toOwnRecord(row);
  }

  /**
   * Per non-empty bucket, the count and hash of the shard's rows (version 0 rows are empty rows
   * of a transaction in progress, never published, so they are not counted).
   */
  async digest(tx: SqlTx, shard: number): Promise<BucketDigest[]> {
    const rows = await tx.query<BucketDigest & { moved: boolean }>(bucketDigestSql('stock', 'shard = $1 AND version > 0'), [shard]);
    return rows.map(({ bucket, rows: count, hash }) => ({ bucket, rows: count, hash }));
  }

  async appendMovement(tx: SqlTx, m: NewMovement): Promise<MovementView> {
    const [row] = await tx.query<MovementRow>(
      `INSERT INTO stock_movements (warehouse_id, sku, shard, kind, delta, reason, on_hand_after, reserved_after, safety_stock_after, version,
                                   actor, request_id, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${MOVEMENT_COLUMNS}`,
      [
        m.warehouseId,
        m.sku,
        m.shard,
        m.kind,
        m.delta,
        m.reason,
        m.after.onHand,
        m.after.reserved,
        m.after.safetyStock,
        m.after.version,
        m.actor,
        m.requestId,
        m.idempotencyKey,
      ],
    );
    return toMovement(row);
  }

  /** Newest first, strictly before `beforeSeq` when given. */
  async movements(tx: SqlTx, key: StockKey, limit: number, beforeSeq?: string): Promise<LedgerEntryView[]> {
    const rows = await tx.query<MovementRow>(
      `SELECT ${MOVEMENT_COLUMNS} FROM stock_movements
       WHERE warehouse_id = $1 AND sku = $2 AND ($3::bigint IS NULL OR seq < $3::bigint)
       ORDER BY seq DESC LIMIT $4`,
      [key.warehouseId, key.sku, beforeSeq ?? null, limit],
    );
    return rows.map(toLedgerEntry);
  }
}
