import {
  EVENT_TYPES,
  newEvent,
  PoisonEventError,
  TOPICS,
  toKafkaRecord,
  type CloudEvent,
  type TransferData,
  type TransferDispatchedData,
  type TransferReceivedData,
} from '@stockmesh/contracts';
import type { OutboxEntry } from '@stockmesh/replication';
import type { TransferRecord } from './transfer.repository.js';

/** What every event of a transfer says about it. */
export function transferData(t: TransferRecord): TransferData {
  return {
    transferId: t.id,
    sku: t.sku,
    shard: t.shard,
    fromWarehouseId: t.fromWarehouseId,
    fromRegion: t.fromRegion,
    toWarehouseId: t.toWarehouseId,
    toRegion: t.toRegion,
    quantity: t.quantity,
  };
}

/**
 * `io.stockmesh.transfer.dispatched.v1` from the source's owner, on the transfers topic's
 * partition = the SKU's shard (where the destination applies it, next to the SKU's rows), keyed
 * by transfer id.
 */
export function transferDispatchedEntry(t: TransferData, dispatchedAt: Date, requestId: string | null): OutboxEntry {
  const data: TransferDispatchedData = { ...t, dispatchedAt: dispatchedAt.toISOString() };
  return entry(
    t,
    newEvent({
      source: t.fromRegion,
      type: EVENT_TYPES.transferDispatched,
      time: data.dispatchedAt,
      subject: `transfers/${t.transferId}`,
      correlationid: requestId ?? undefined,
      data,
    }),
  );
}

/** `io.stockmesh.transfer.received.v1` from the destination's owner, once per transfer, same partition and key. */
export function transferReceivedEntry(
  t: TransferData,
  outcome: TransferReceivedData['outcome'],
  receivedAt: Date,
  correlationId: string | null,
): OutboxEntry {
  const data: TransferReceivedData = { ...t, outcome, receivedAt: receivedAt.toISOString() };
  return entry(
    t,
    newEvent({
      source: t.toRegion,
      type: EVENT_TYPES.transferReceived,
      time: data.receivedAt,
      subject: `transfers/${t.transferId}`,
      correlationid: correlationId ?? undefined,
      data,
    }),
  );
}

function entry(t: TransferData, event: CloudEvent): OutboxEntry {
  return { topic: TOPICS.transfers, partition: t.shard, record: toKafkaRecord(event, t.transferId) };
}

/**
 * Whether `region` must add the units of a dispatched transfer: it owns the destination. Every
 * other region ignores the event. Poison when the event contradicts itself: only the source's
 * owner dispatches, and a transfer within one region is never dispatched to be applied.
 */
export function isDestination(event: CloudEvent<string, TransferDispatchedData>, region: string): boolean {
  const { fromRegion, toRegion } = event.data;
  if (toRegion !== region) return false;
  if (event.source !== fromRegion || fromRegion === toRegion) {
    throw new PoisonEventError(`transfer ${event.data.transferId} from ${fromRegion} to ${toRegion} was dispatched by ${event.source}`);
  }
  return true;
}

/**
 * Whether `region` must settle a received transfer: it owns the source, where the transfer is
 * recorded. Poison when the event was not sent by the destination's owner.
 */
export function isSource(event: CloudEvent<string, TransferReceivedData>, region: string): boolean {
  const { fromRegion, toRegion } = event.data;
  if (fromRegion !== region) return false;
  if (event.source !== toRegion || fromRegion === toRegion) {
    throw new PoisonEventError(`transfer ${event.data.transferId} from ${fromRegion} to ${toRegion} was received by ${event.source}`);
  }
  return true;
}
