import {
  DIGEST_BUCKETS,
  EVENT_TYPES,
  newEvent,
  stockStateKey,
  TOPICS,
  toKafkaRecord,
  type StockAlertData,
  type StockChangedData,
  type StockDigestData,
} from '@stockmesh/contracts';
import type { OutgoingMessage } from '@stockmesh/messaging';
import type { OutboxEntry } from '@stockmesh/replication';
import type { BucketDigest } from './anti-entropy/bucket-digest.js';
import type { StockAlertKind } from './stock-alerts/low-stock.js';
import { storefrontAvailable } from './stock-level.js';
import type { OwnStockRecord, StockRecord } from './stock.repository.js';
import type { MovementView } from './stock.views.js';

/**
 * The outbox entry announcing a change of an owned row: `io.stockmesh.stock.changed.v1` with
 * the row's full resulting state and version, keyed by SKU on the stock topic's partition =
 * shard, and copied to the compacted state topic under `warehouseId/sku`.
 */
export function stockChangedEntry(record: StockRecord, shard: number, movement: MovementView, requestId: string | null): OutboxEntry {
  const data: StockChangedData = {
    ...rowState(record, shard),
    cause: causeOf(movement),
  };
  const event = newEvent({
    source: record.region,
    type: EVENT_TYPES.stockChanged,
    time: data.updatedAt,
    subject: stockSubject(record),
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
 * The outbox entry of an owned row's crossing of its low-stock threshold (see lowStockTransition):
 * `io.stockmesh.stock.low.v1` or `io.stockmesh.stock.back-in-stock.v1` on the alerts topic,
 * partition = shard (as the row's stock events), keyed `warehouseId/sku`, with the row as the
 * change that crossed left it. No region reads the topic: it is for other systems.
 */
export function stockAlertEntry(
  kind: StockAlertKind,
  record: OwnStockRecord,
  shard: number,
  movement: MovementView,
  requestId: string | null,
): OutboxEntry {
  // The receipts and backorders are the row's, not the alert's: only stock.changed carries them.
  const { incoming: _receipts, backordered: _promised, ...state } = rowState(record, shard);
  const data: StockAlertData = {
    ...state,
    lowStockThreshold: record.lowStockThreshold,
    available: storefrontAvailable(record),
    cause: causeOf(movement),
  };
  const event = newEvent({
    source: record.region,
    type: kind === 'low' ? EVENT_TYPES.stockLow : EVENT_TYPES.stockBackInStock,
    time: data.updatedAt,
    subject: stockSubject(record),
    correlationid: requestId ?? undefined,
    data,
  });
  return { topic: TOPICS.stockAlerts, partition: shard, record: toKafkaRecord(event, stockStateKey(record.warehouseId, record.sku)) };
}

const stockSubject = (record: StockRecord): string => `warehouses/${record.warehouseId}/stock/${record.sku}`;

const causeOf = (movement: MovementView): StockChangedData['cause'] => ({
  kind: movement.kind,
  delta: movement.delta,
  reason: movement.reason,
  movementId: movement.id,
  actor: movement.actor,
});

/** What the stock events of a row say about it. */
function rowState(record: StockRecord, shard: number): Omit<StockChangedData, 'cause'> & { readonly safetyStock: number } {
  return {
    warehouseId: record.warehouseId,
    sku: record.sku,
    region: record.region,
    shard,
    onHand: record.onHand,
    reserved: record.reserved,
    safetyStock: record.safetyStock,
    // Only when there are any: most rows have none, and their events stay as they were.
    ...(record.incoming.length > 0 ? { incoming: record.incoming.map((r) => ({ ...r })) } : {}),
    ...(record.backordered > 0 ? { backordered: record.backordered } : {}),
    version: record.version,
    updatedAt: record.updatedAt.toISOString(),
  };
}

/** Where an owner's digest of one shard lies in the stock topic's partition = shard (see StockDigestData). */
export interface DigestPoint {
  readonly fromOffset: string;
  readonly toOffset: string;
}

/**
 * The record of an owner's digest of one shard: `io.stockmesh.stock.digest.v1` on the digests
 * topic, partition = shard, keyed `region/shard`. Published directly, not through the outbox: it
 * changes nothing, and one lost is replaced at the next interval.
 */
export function stockDigestMessage(
  region: string,
  shard: number,
  point: DigestPoint,
  buckets: readonly BucketDigest[],
  unsettled: readonly number[],
  computedAt: string,
): OutgoingMessage {
  const data: StockDigestData = {
    region,
    shard,
    bucketCount: DIGEST_BUCKETS,
    fromOffset: point.fromOffset,
    toOffset: point.toOffset,
    rows: buckets.reduce((sum, b) => sum + b.rows, 0),
    buckets: buckets.filter((b) => !unsettled.includes(b.bucket)).map((b) => ({ bucket: b.bucket, rows: b.rows, hash: b.hash })),
    unsettled: [...unsettled],
    computedAt,
  };
  const event = newEvent({
    source: region,
    type: EVENT_TYPES.stockDigest,
    time: computedAt,
    subject: `regions/${region}/shards/${shard}`,
    data,
  });
  return { topic: TOPICS.stockDigests, partition: shard, ...toKafkaRecord(event, `${region}/${shard}`) };
}
