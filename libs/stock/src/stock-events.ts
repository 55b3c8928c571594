import {
  DIGEST_BUCKETS,
  EVENT_TYPES,
  newEvent,
  stockStateKey,
  TOPICS,
  toKafkaRecord,
  type StockChangedData,
  type StockDigestData,
} from '@stockmesh/contracts';
import type { OutboxEntry } from '@stockmesh/replication';
import type { BucketDigest } from './anti-entropy/bucket-digest.js';
import type { StockRecord } from './stock.repository.js';
import type { MovementView } from './stock.views.js';

/**
 * The outbox entry announcing a change of an owned row: `io.stockmesh.stock.changed.v1` with
 * the row's full resulting state and version, keyed by SKU on the stock topic's partition =
 * shard, and copied to the compacted state topic under `warehouseId/sku`.
 */
export function stockChangedEntry(record: StockRecord, shard: number, movement: MovementView, requestId: string | null): OutboxEntry {
  const data: StockChangedData = {
    warehouseId: record.warehouseId,
    sku: record.sku,
    region: record.region,
    shard,
    onHand: record.onHand,
    reserved: record.reserved,
    version: record.version,
    updatedAt: record.updatedAt.toISOString(),
    cause: { kind: movement.kind, delta: movement.delta, reason: movement.reason, movementId: movement.id, actor: movement.actor },
  };
  const event = newEvent({
    source: record.region,
    type: EVENT_TYPES.stockChanged,
    time: data.updatedAt,
    subject: `warehouses/${record.warehouseId}/stock/${record.sku}`,
    correlationid: requestId ?? undefined,
    data,
  });
  return {
    topic: TOPICS.stock,
    partition: shard,
    record: toKafkaRecord(event, record.sku),
    compact: { topic: TOPICS.stockState, key: stockStateKey(record.warehouseId, record.sku) },
  };
}

/**
 * The outbox entry of an owner's digest of one shard: `io.stockmesh.stock.digest.v1` on the stock
 * topic's partition = shard, written in the transaction that computed it, so that it sits in the
 * partition after the changes it counts. Not copied to the state topic: it is not a row.
 */
export function stockDigestEntry(region: string, shard: number, buckets: readonly BucketDigest[], computedAt: string): OutboxEntry {
  const data: StockDigestData = {
    region,
    shard,
    bucketCount: DIGEST_BUCKETS,
    rows: buckets.reduce((sum, b) => sum + b.rows, 0),
    buckets: buckets.map((b) => ({ bucket: b.bucket, rows: b.rows, hash: b.hash })),
    computedAt,
  };
  const event = newEvent({
    source: region,
    type: EVENT_TYPES.stockDigest,
    time: computedAt,
    subject: `regions/${region}/shards/${shard}`,
    data,
  });
  return { topic: TOPICS.stock, partition: shard, record: toKafkaRecord(event, `${region}/${shard}`) };
}
