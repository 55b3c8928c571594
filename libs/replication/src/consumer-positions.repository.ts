import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';

/** The `consumer_positions` table: the next offset to apply, per topic partition. */
@Injectable()
export class ConsumerPositionsRepository {
  /**
   * The stored position, locked for the transaction (one applier per partition at a time). The
   * row lock alone would not do while a partition has no row yet: two instances a rebalance gave
   * the same partition (the old owner still applying its last batch) would both find nothing,
   * apply the same records, and the later commit could store a position behind the earlier one.
   * A transaction-scoped advisory lock per partition makes the second wait, then read the first's
   * committed position.
   */
  async lock(tx: SqlTx, topic: string, partition: number): Promise<bigint | undefined> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('stockmesh consumer position'), hashtext($1 || '/' || $2))`, [topic, partition]);
    const [row] = await tx.query<{ next_offset: string }>(
      `SELECT next_offset FROM consumer_positions WHERE topic = $1 AND partition = $2 FOR UPDATE`,
      [topic, partition],
    );
    return row ? BigInt(row.next_offset) : undefined;
  }

  async save(tx: SqlTx, topic: string, partition: number, nextOffset: bigint): Promise<void> {
    await tx.query(
      `INSERT INTO consumer_positions (topic, partition, next_offset) VALUES ($1, $2, $3)
       ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`,
      [topic, partition, nextOffset.toString()],
    );
  }

  /**
   * Stores `nextOffset` unless the partition has a position already: what a rebuild stores, so
   * that an instance finishing its rebuild late never moves back a position that another
   * instance's replicator has advanced meanwhile.
   */
  async saveIfAbsent(tx: SqlTx, topic: string, partition: number, nextOffset: bigint): Promise<void> {
    await tx.query(
      `INSERT INTO consumer_positions (topic, partition, next_offset) VALUES ($1, $2, $3) ON CONFLICT (topic, partition) DO NOTHING`,
      [topic, partition, nextOffset.toString()],
    );
  }

  async all(tx: SqlTx, topic: string): Promise<Map<number, bigint>> {
    const rows = await tx.query<{ partition: number; next_offset: string }>(
      `SELECT partition, next_offset FROM consumer_positions WHERE topic = $1`,
      [topic],
    );
    return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  }
}
