import { Injectable } from '@nestjs/common';
import type { KafkaRecord } from '@stockmesh/contracts';
import { currentTraceparent } from '@stockmesh/http';
import type { SqlTx } from '@stockmesh/persistence';

/** One event to publish, written in the transaction of the change it announces. */
export interface OutboxEntry {
  readonly topic: string;
  readonly partition: number;
  readonly record: KafkaRecord;
  /** A compacted topic that also gets the record (the latest state of a row), under its own key. */
  readonly compact?: { readonly topic: string; readonly key: string };
}

export interface OutboxRow {
  readonly seq: string;
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  readonly headers: Record<string, string>;
  readonly value: string;
  readonly compactTopic: string | null;
  readonly compactKey: string | null;
}

/** The `outbox` table of a shard database. */
@Injectable()
export class OutboxRepository {
  private readonly appendedListeners: ((database: string) => void)[] = [];

  /**
   * Calls `listener` with the database's name each time a transaction that appended events has
   * committed: the relay of this process publishes them at once, without PostgreSQL's NOTIFY
   * (whose server-wide lock would make every outbox commit wait for all others).
   */
  onAppended(listener: (database: string) => void): void {
    this.appendedListeners.push(listener);
  }

  /**
   * Appends events in one statement, in their order (their sequence numbers follow it); they
   * become visible to the relay when the caller's transaction commits. Made while serving a
   * request, each carries that request's `traceparent` as `ce_traceparent`.
   */
  async append(tx: SqlTx, entries: readonly OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    tx.afterCommit(() => this.appendedListeners.forEach((listener) => listener(tx.database)));
    const column = <T>(pick: (e: OutboxEntry) => T): T[] => entries.map(pick);
    // The CloudEvents distributed-tracing extension: the trace of the request that made the change.
    const traceparent = currentTraceparent();
    const headersOf = (e: OutboxEntry): Record<string, string> =>
      traceparent === undefined || e.record.headers.ce_traceparent !== undefined
        ? e.record.headers
        : { ...e.record.headers, ce_traceparent: traceparent };
    // WITH ORDINALITY and ORDER BY: the sequence numbers are taken in the entries' order.
    await tx.query(
      `INSERT INTO outbox (topic, partition, key, headers, value, compact_topic, compact_key)
       SELECT topic, partition, key, headers::jsonb, value, compact_topic, compact_key
         FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
              WITH ORDINALITY AS e(topic, partition, key, headers, value, compact_topic, compact_key, n)
        ORDER BY n`,
      [
        column((e) => e.topic),
        column((e) => e.partition),
        column((e) => e.record.key),
        column((e) => JSON.stringify(headersOf(e))),
        column((e) => e.record.value),
        column((e) => e.compact?.topic ?? null),
        column((e) => e.compact?.key ?? null),
      ],
    );
  }

  /**
   * The unpublished events visible now, by sequence number. Two changes of one row are always in
   * the order they committed (the second waits for the first's row lock before it inserts);
   * changes of different rows may commit out of sequence order, which nothing relies on.
   */
  async oldest(tx: SqlTx, limit: number): Promise<OutboxRow[]> {
    const rows = await tx.query<{
      seq: string;
      topic: string;
      partition: number;
      key: string;
      headers: Record<string, string>;
      value: string;
      compact_topic: string | null;
      compact_key: string | null;
    }>(`SELECT seq, topic, partition, key, headers, value, compact_topic, compact_key FROM outbox ORDER BY seq LIMIT $1`, [limit]);
    return rows.map((r) => ({ ...r, compactTopic: r.compact_topic, compactKey: r.compact_key }));
  }

  /**
   * Removes exactly the events that were published. Not "everything up to the last seq": a
   * sequence number is taken when a writer inserts, not when it commits, so a lower number may
   * become visible only after the relay read the outbox, and must not be deleted unpublished.
   */
  async delete(tx: SqlTx, seqs: readonly string[]): Promise<void> {
    await tx.query(`DELETE FROM outbox WHERE seq = ANY($1::bigint[])`, [seqs]);
  }

  /**
   * The compaction keys (`warehouseId/sku`) of the events for a partition of a topic still in the
   * outbox: changes committed but not yet published (anti-entropy leaves their buckets out).
   */
  async pendingKeys(tx: SqlTx, topic: string, partition: number): Promise<string[]> {
    const rows = await tx.query<{ key: string }>(
      `SELECT DISTINCT compact_key AS key FROM outbox WHERE topic = $1 AND partition = $2 AND compact_key IS NOT NULL`,
      [topic, partition],
    );
    return rows.map((r) => r.key);
  }

  async pending(tx: SqlTx): Promise<number> {
    const [row] = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM outbox`);
    return Number(row.n);
  }
}
