import { EVENT_TYPES, newEvent, TOPICS, toKafkaRecord, type WarehouseChangedData } from '@stockmesh/contracts';
import type { OutboxEntry } from '@stockmesh/replication';
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
