import { EVENT_TYPES, newEvent, TOPICS, toKafkaRecord, type ChannelChangedData, type WarehouseChangedData } from '@stockmesh/contracts';
import type { OutboxEntry } from '@stockmesh/replication';
import type { ChannelView } from './channel.js';
import type { WarehouseView } from './warehouse.js';

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
  const event = newEvent({
    source: warehouse.region,
    type: EVENT_TYPES.warehouseChanged,
    time: warehouse.updatedAt,
    subject: `warehouses/${warehouse.id}`,
    correlationid: requestId ?? undefined,
    data,
  });
  return { topic: TOPICS.catalog, partition: 0, record: toKafkaRecord(event, warehouse.id) };
}

/**
 * `io.stockmesh.channel.changed.v1` on the compacted catalog topic, keyed `channels/<id>`: a key
 * no warehouse id can take (they have no `/`), so compaction keeps each channel's latest state
 * beside each warehouse's.
 */
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
  const event = newEvent({
    source: channel.region,
    type: EVENT_TYPES.channelChanged,
    time: channel.updatedAt,
    subject: `channels/${channel.id}`,
    correlationid: requestId ?? undefined,
    data,
  });
  return { topic: TOPICS.catalog, partition: 0, record: toKafkaRecord(event, `channels/${channel.id}`) };
}
