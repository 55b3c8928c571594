import type { AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, PoisonEventError, TOPICS, type CloudEvent, type EventType } from '@stockmesh/contracts';
import { shardOf, type ShardDatabase } from '@stockmesh/sharding';

/** A topic this region applies, which events may be on it, and where each partition is applied. */
export interface ReplicatedTopic {
  readonly topic: string;
  readonly types: readonly EventType[];
  /** The database whose transaction applies a partition's events and stores its position. */
  database(partition: number): ShardDatabase;
  /** Refuses (as poison) an event that does not belong in the partition it arrived on. */
  check?(event: CloudEvent, partition: number): void;
}

/**
 * The stock topic's partition k is applied in the database hosting shard k; the catalog (one
 * partition) in the home database, where the catalog lives. The transfers topic is partitioned
 * like the stock topic, so a transfer's events are applied where its SKU's rows are.
 */
export function replicatedTopics(config: AppConfig): ReplicatedTopic[] {
  const map = config.shardMap;
  function checkShard(event: CloudEvent, partition: number): void {
    const data = event.data as { sku: string; shard: number };
    const shard = shardOf(data.sku, config.cluster.shardCount);
    if (data.shard !== partition || shard !== partition) {
      throw new PoisonEventError(
        `SKU ${data.sku} belongs to shard ${shard} but the event says ${data.shard} and arrived on partition ${partition}`,
      );
    }
  }
  return [
    { topic: TOPICS.stock, types: [EVENT_TYPES.stockChanged], database: (partition) => map.databaseFor(partition), check: checkShard },
    { topic: TOPICS.catalog, types: [EVENT_TYPES.warehouseChanged], database: () => map.databaseFor(0) },
    {
      topic: TOPICS.transfers,
      types: [EVENT_TYPES.transferDispatched, EVENT_TYPES.transferReceived],
      database: (partition) => map.databaseFor(partition),
      check: checkShard,
    },
  ];
}
