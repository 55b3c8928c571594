import {
  EVENT_TYPES,
  newEvent,
  TOPICS,
  toKafkaRecord,
  type ChannelChangedData,
  type EventType,
  type KitChangedData,
  type WarehouseChangedData,
} from '@stockmesh/contracts';
import type { OutboxEntry } from '@stockmesh/replication';
import type { ChannelView } from './channel.js';
import type { KitView } from './kit.js';
import type { WarehouseView } from './warehouse.js';

/**
 * A catalog entry's event on the compacted catalog topic (one partition), sent by the region
 * that owns the entry, with the entry's state: `subject` names it and is its Kafka key, except
 * for a warehouse, keyed by its bare id (its key from before channels and kits). Channels' and
 * kits' keys have a `/` no warehouse id can take, so compaction keeps each entry's latest state.
 */
function catalogEntry(
  type: EventType,
  data: { readonly region: string; readonly updatedAt: string },
  subject: string,
  key: string,
  requestId: string | null,
): OutboxEntry {
  const event = newEvent({ source: data.region, type, time: data.updatedAt, subject, correlationid: requestId ?? undefined, data });
  return { topic: TOPICS.catalog, partition: 0, record: toKafkaRecord(event, key) };
}

/** `io.stockmesh.warehouse.changed.v1` on the compacted catalog topic, keyed by warehouse id. */
export function warehouseChangedEntry(warehouse: WarehouseView, requestId: string | null): OutboxEntry {
  const data: WarehouseChangedData = {
    id: warehouse.id,
    region: warehouse.region,
    name: warehouse.name,
    latitude: warehouse.latitude,
    longitude: warehouse.longitude,
    version: warehouse.version,
    createdAt: warehouse.createdAt,
    updatedAt: warehouse.updatedAt,
  };
  return catalogEntry(EVENT_TYPES.warehouseChanged, data, `warehouses/${warehouse.id}`, warehouse.id, requestId);
}

/** `io.stockmesh.channel.changed.v1` on the compacted catalog topic, keyed `channels/<id>`. */
export function channelChangedEntry(channel: ChannelView, requestId: string | null): OutboxEntry {
  const data: ChannelChangedData = {
    id: channel.id,
    region: channel.region,
    name: channel.name,
    warehouseIds: [...channel.warehouseIds],
    version: channel.version,
    createdAt: channel.createdAt,
    updatedAt: channel.updatedAt,
  };
  const subject = `channels/${channel.id}`;
  return catalogEntry(EVENT_TYPES.channelChanged, data, subject, subject, requestId);
}

/** `io.stockmesh.kit.changed.v1` on the compacted catalog topic, keyed `kits/<sku>`. */
export function kitChangedEntry(kit: KitView, requestId: string | null): OutboxEntry {
  const data: KitChangedData = {
    sku: kit.sku,
    region: kit.region,
    components: kit.components.map((c) => ({ sku: c.sku, quantity: c.quantity })),
    version: kit.version,
    createdAt: kit.createdAt,
    updatedAt: kit.updatedAt,
  };
  const subject = `kits/${kit.sku}`;
  return catalogEntry(EVENT_TYPES.kitChanged, data, subject, subject, requestId);
}
