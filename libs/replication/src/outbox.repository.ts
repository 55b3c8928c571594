import { Injectable } from '@nestjs/common';
import type { KafkaRecord } from '@stockmesh/contracts';
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
  /** Appends events; they become visible to the relay when the caller's transaction commits. */
  async append(tx: SqlTx, entries: readonly OutboxEntry[]): Promise<void> {
    for (const e of entries) {
      await tx.query(
        `INSERT INTO outbox (topic, partition, key, headers, value, compact_topic, compact_key) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)`,
        [
          e.topic,
          e.partition,
          e.record.key,
          JSON.stringify(e.record.headers),
          e.record.value,
          e.compact?.topic ?? null,
          e.compact?.key ?? null,
        ],
      );
    }
  }

  /** The oldest unpublished events, in commit order of their sequence numbers. */
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

  /** Removes the published events, up to and including `seq`. */
  async deleteUpTo(tx: SqlTx, seq: string): Promise<void> {
    await tx.query(`DELETE FROM outbox WHERE seq <= $1`, [seq]);
  }

  async pending(tx: SqlTx): Promise<number> {
    const [row] = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM outbox`);
    return Number(row.n);
  }
}
