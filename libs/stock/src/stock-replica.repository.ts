import { Injectable } from '@nestjs/common';
import type { StockChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import type { IncomingReceipt } from './incoming-stock/incoming-receipts.js';
import { toRecord, type StockKey, type StockRecord, type StockRow } from './stock.repository.js';
import type { BucketDigest } from './anti-entropy/bucket-digest.js';
import { bucketDigestSql, DIGEST_BUCKET_SQL } from './anti-entropy/stock-digest.sql.js';

/** A replica row as anti-entropy sees it before a repair. */
export interface ReplicaRowState extends StockKey {
  readonly version: number;
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  readonly incoming: readonly IncomingReceipt[];
  readonly backordered: number;
  /**
   * Applied before the repair began: every event that made the row was then on the state topic
   * before it was read, so a version above the state topic's is not the owner's.
   */
  readonly settled: boolean;
}

/** A replica row: the owner's state, and when this region applied it. */
export interface ReplicaRecord extends StockRecord {
  readonly appliedAt: Date;
}

/** One replicated change of a row: the owner's state, its event, and the event's offset in the live topic. */
export interface ReplicaChange {
  readonly data: StockChangedData;
  readonly eventId: string;
  readonly offset?: bigint;
}

/** The safety stock an event carries; an owner from before safety stock sends none, which means 0. */
export const safetyStockOf = (data: Pick<StockChangedData, 'safetyStock'>): number => data.safetyStock ?? 0;

/**
 * The incoming receipts an event carries, as the owner stores them (the three fields, in its
 * order); an owner from before incoming stock, or a row without receipts, sends none.
 */
export const incomingOf = (data: Pick<StockChangedData, 'incoming'>): IncomingReceipt[] =>
  (data.incoming ?? []).map(({ receiptId, quantity, expectedAt }) => ({ receiptId, quantity, expectedAt }));

/** The backordered units an event carries; none (or an owner from before backorders) means 0. */
export const backorderedOf = (data: Pick<StockChangedData, 'backordered'>): number => data.backordered ?? 0;

/** Whether two lists of receipts are the same (same receipts, same order). */
export const sameIncoming = (a: readonly IncomingReceipt[], b: readonly IncomingReceipt[]): boolean =>
  a.length === b.length &&
  a.every((r, i) => r.receiptId === b[i]!.receiptId && r.quantity === b[i]!.quantity && r.expectedAt === b[i]!.expectedAt);

/** The `stock_replica` table: other regions' rows as their owners last published them. */
@Injectable()
export class StockReplicaRepository {
  /**
   * Stores the row unless a version at least as high is already there: duplicates and
   * out-of-order deliveries change nothing. `applied_at` is the wall clock of the apply (not the
   * transaction start), so it says when the row became visible here. Returns whether it changed.
   */
  async apply(tx: SqlTx, data: StockChangedData, eventId: string, offset?: bigint): Promise<boolean> {
    return this.upsert(tx, data, eventId, true, offset);
  }

  /**
   * `apply` for many changes in one statement, with the outcome of applying them one by one in any
   * order: per row the highest version wins, and a row already at that version or above keeps
   * what it has. Several changes of one row in the list are reduced to the highest version first
   * (the earliest of equal versions, as one-by-one applying keeps it), since one INSERT may not
   * touch a row twice. Rows are written in key order, the order anti-entropy locks them in.
   */
  async applyAll(tx: SqlTx, changes: readonly ReplicaChange[]): Promise<void> {
    if (changes.length === 0) return;
    const column = <T>(pick: (c: ReplicaChange) => T): T[] => changes.map(pick);
    await tx.query(
      `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at,
                                  applied_at, event_id, applied_offset)
       SELECT DISTINCT ON (c.warehouse_id, c.sku)
              c.warehouse_id, c.sku, c.shard, c.region, c.on_hand, c.reserved, c.safety_stock, c.incoming, c.backordered, c.version,
              c.updated_at, clock_timestamp(), c.event_id, c.applied_offset
       FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::timestamptz[],
                   $9::text[], $10::bigint[], $11::bigint[], $12::jsonb[], $13::bigint[])
            WITH ORDINALITY AS c(warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, event_id, applied_offset,
                                 safety_stock, incoming, backordered, ord)
       ORDER BY c.warehouse_id, c.sku, c.version DESC, c.ord
       ON CONFLICT (warehouse_id, sku) DO UPDATE SET
         shard = EXCLUDED.shard, region = EXCLUDED.region, on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved,
         safety_stock = EXCLUDED.safety_stock, incoming = EXCLUDED.incoming, backordered = EXCLUDED.backordered, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, applied_at = clock_timestamp(), event_id = EXCLUDED.event_id,
         applied_offset = EXCLUDED.applied_offset
       WHERE stock_replica.version < EXCLUDED.version`,
      [
        column((c) => c.data.warehouseId),
        column((c) => c.data.sku),
        column((c) => c.data.shard),
        column((c) => c.data.region),
        column((c) => c.data.onHand),
        column((c) => c.data.reserved),
        column((c) => c.data.version),
        column((c) => c.data.updatedAt),
        column((c) => c.eventId),
        column((c) => c.offset?.toString() ?? null),
        column((c) => safetyStockOf(c.data)),
        column((c) => JSON.stringify(incomingOf(c.data))),
        column((c) => backorderedOf(c.data)),
      ],
    );
  }

  /**
   * Replaces the row by the owner's state whatever its version: anti-entropy's repair of a row it
   * locked and found wrong (including a version above the owner's, which `apply` would keep).
   */
  async overwrite(tx: SqlTx, shard: number, data: StockChangedData, eventId: string): Promise<void> {
    if (data.shard !== shard) throw new RangeError(`row of shard ${data.shard} written to shard ${shard}`);
    await this.upsert(tx, data, eventId, false);
  }

  /**
   * One page of another region's warehouse as replicated here, by SKU, strictly after
   * `afterSku` (keyset paging on the primary key, as `StockRepository.pageOfWarehouse`).
   */
  async pageOfWarehouse(tx: SqlTx, warehouseId: string, afterSku: string | null, limit: number): Promise<ReplicaRecord[]> {
    const rows = await tx.query<StockRow & { applied_at: Date }>(
      `SELECT warehouse_id, sku, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at, applied_at
         FROM stock_replica
        WHERE warehouse_id = $1 AND ($2::text IS NULL OR sku COLLATE "C" > $2)
        ORDER BY sku COLLATE "C" LIMIT $3`,
      [warehouseId, afterSku, limit],
    );
    return rows.map((r) => ({ ...toRecord(r), appliedAt: r.applied_at }));
  }

  private async upsert(tx: SqlTx, data: StockChangedData, eventId: string, onlyNewer: boolean, offset?: bigint): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at,
                                  applied_at, event_id, applied_offset)
       VALUES ($1, $2, $3, $4, $5, $6, $12, $13::jsonb, $14, $7, $8, clock_timestamp(), $9, $11)
       ON CONFLICT (warehouse_id, sku) DO UPDATE SET
         shard = EXCLUDED.shard, region = EXCLUDED.region, on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved,
         safety_stock = EXCLUDED.safety_stock, incoming = EXCLUDED.incoming, backordered = EXCLUDED.backordered, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, applied_at = clock_timestamp(), event_id = EXCLUDED.event_id,
         applied_offset = EXCLUDED.applied_offset
       WHERE stock_replica.version < EXCLUDED.version OR NOT $10
       RETURNING 1 AS changed`,
      [
        data.warehouseId,
        data.sku,
        data.shard,
        data.region,
        data.onHand,
        data.reserved,
        data.version,
        data.updatedAt,
        eventId,
        onlyNewer,
        offset?.toString() ?? null,
        safetyStockOf(data),
        JSON.stringify(incomingOf(data)),
        backorderedOf(data),
      ],
    );
    return rows.length === 1;
  }

  /**
   * Per non-empty bucket, the count and hash of `region`'s rows of the shard (see docs/events.md),
   * and whether any of them was changed by an event at or after `since` in the live topic's
   * partition (such a bucket cannot be compared with a digest taken before that point).
   */
  async digest(tx: SqlTx, shard: number, region: string, since: bigint): Promise<(BucketDigest & { moved: boolean })[]> {
    return tx.query<BucketDigest & { moved: boolean }>(
      bucketDigestSql('stock_replica', 'shard = $1 AND region = $2', 'coalesce(applied_offset >= $3::bigint, false)'),
      [shard, region, since.toString()],
    );
  }

  /**
   * The clock of the database `tx` is on (the one hosting the shards to repair), when a repair
   * begins: `applied_at` is compared with it, so both come from the same clock.
   */
  async clock(tx: SqlTx): Promise<string> {
    const [row] = await tx.query<{ now: string }>(`SELECT clock_timestamp()::text AS now`);
    return row.now;
  }

  /** `region`'s rows of the shard in the buckets, locked until the transaction ends. */
  async lockBuckets(tx: SqlTx, shard: number, region: string, buckets: readonly number[], repairStart: string): Promise<ReplicaRowState[]> {
    const rows = await tx.query<{
      warehouse_id: string;
      sku: string;
      version: string;
      on_hand: string;
      reserved: string;
      safety_stock: string;
      incoming: IncomingReceipt[];
      backordered: string;
      settled: boolean;
    }>(
      `SELECT warehouse_id, sku, version, on_hand, reserved, safety_stock, incoming, backordered, applied_at < $4::timestamptz AS settled FROM stock_replica
       WHERE shard = $1 AND region = $2 AND ${DIGEST_BUCKET_SQL} = ANY($3::int[])
       ORDER BY warehouse_id, sku FOR UPDATE`,
      [shard, region, [...buckets], repairStart],
    );
    return rows.map((r) => ({
      warehouseId: r.warehouse_id,
      sku: r.sku,
      version: Number(r.version),
      onHand: Number(r.on_hand),
      reserved: Number(r.reserved),
      safetyStock: Number(r.safety_stock),
      incoming: r.incoming,
      backordered: Number(r.backordered),
      settled: r.settled,
    }));
  }

  /** Deletes replica rows of the shard that their owner does not have. */
  async remove(tx: SqlTx, shard: number, keys: readonly StockKey[]): Promise<void> {
    await tx.query(
      `DELETE FROM stock_replica r USING unnest($2::text[], $3::text[]) AS k(warehouse_id, sku)
       WHERE r.shard = $1 AND r.warehouse_id = k.warehouse_id AND r.sku = k.sku`,
      [shard, keys.map((k) => k.warehouseId), keys.map((k) => k.sku)],
    );
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
