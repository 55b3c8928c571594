import type { AppConfig } from '@stockmesh/config';
import {
  apiKeyChangeSigned,
  EVENT_TYPES,
  PoisonEventError,
  type ApiKeyChangedData,
  type ChannelChangedData,
  type KitChangedData,
  TOPICS,
  type CloudEvent,
  type EventType,
  type StockChangedData,
  type TransferData,
  type WarehouseChangedData,
} from '@stockmesh/contracts';
import { shardOf, type ShardDatabase } from '@stockmesh/sharding';

/** A region an event says owns a warehouse; the replicator checks it against the catalog. */
export interface OwnerClaim {
  readonly warehouseId: string;
  readonly region: string;
}

/** A topic this region applies, which events may be on it, and where each partition is applied. */
export interface ReplicatedTopic {
  readonly topic: string;
  readonly types: readonly EventType[];
  /** The database whose transaction applies a partition's events and stores its position. */
  database(partition: number): ShardDatabase;
  /**
   * Refuses (as poison) an event that contradicts itself: it does not belong in the partition it
   * arrived on, or its source is not the region that alone may send it.
   */
  check(event: CloudEvent, partition: number): void;
  /** The owners the event claims, each to be confirmed by the catalog before the event applies. */
  owners(event: CloudEvent): readonly OwnerClaim[];
}

function sentBy(event: CloudEvent, region: string, role: string): void {
  if (event.source !== region) {
    throw new PoisonEventError(`${event.type} names ${region} as ${role} but was sent by ${event.source}`);
  }
}

/**
 * The stock topic's partition k is applied in the database hosting shard k; the catalog (one
 * partition) and the API keys (one partition) in the home database, where both live. The transfers topic is partitioned
 * like the stock topic, so a transfer's events are applied where its SKU's rows are.
 *
 * Only a warehouse's owner changes its stock or sends its units away, and only the destination's
 * owner says what became of a transfer: an event whose source is not that region, or that names
 * an owner the catalog does not, is refused. A warehouse's region never changes, so the catalog
 * applier refuses an event that moves one (see `WarehouseEventApplier`).
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
  // The sender speaks for its own warehouse: the source's owner dispatches, the destination's
  // owner answers. A dispatch to a warehouse the destination does not own is still applied: the
  // destination refuses it and the units go back (the two catalogs disagree, not a forgery).
  const transferOwners = (event: CloudEvent): OwnerClaim[] => {
    const t = event.data as TransferData;
    return event.type === EVENT_TYPES.transferDispatched
      ? [{ warehouseId: t.fromWarehouseId, region: t.fromRegion }]
      : [{ warehouseId: t.toWarehouseId, region: t.toRegion }];
  };
  return [
    {
      topic: TOPICS.stock,
      types: [EVENT_TYPES.stockChanged],
      database: (partition) => map.databaseFor(partition),
      check: (event, partition) => {
        checkShard(event, partition);
        sentBy(event, (event.data as StockChangedData).region, 'the warehouse’s region');
      },
      owners: (event) => {
        const data = event.data as StockChangedData;
        return [{ warehouseId: data.warehouseId, region: data.region }];
      },
    },
    {
      topic: TOPICS.catalog,
      types: [EVENT_TYPES.warehouseChanged, EVENT_TYPES.channelChanged, EVENT_TYPES.kitChanged],
      database: () => map.databaseFor(0),
      // A warehouse, a channel and a kit are sent by the region that registered or defined them.
      check: (event) =>
        sentBy(
          event,
          (event.data as WarehouseChangedData | ChannelChangedData | KitChangedData).region,
          event.type === EVENT_TYPES.channelChanged
            ? 'the channel’s region'
            : event.type === EVENT_TYPES.kitChanged
              ? 'the kit’s region'
              : 'the warehouse’s region',
        ),
      // A registration is the catalog's own source of owners: the applier refuses a move.
      owners: () => [],
    },
    {
      topic: TOPICS.apiKeys,
      types: [EVENT_TYPES.apiKeyChanged],
      database: () => map.databaseFor(0),
      // Any region may revoke a key another made, so the sender is not checked against the key's
      // region. A key is a credential every region accepts, so the record must be signed with the
      // cluster secret by the region it names as its source: the broker's ACLs alone would let
      // whoever controls the broker make keys. No warehouse.
      check: (event) => {
        const secret = config.regionTrust.secret;
        if (secret === undefined) throw new PoisonEventError('this region has no cluster secret and applies no API-key change');
        if (!secret.accepted().some((key) => apiKeyChangeSigned(key, event.source, event.data as ApiKeyChangedData))) {
          throw new PoisonEventError(`the API-key change is not signed with the cluster secret by ${event.source}`);
        }
      },
      owners: () => [],
    },
    {
      topic: TOPICS.transfers,
      types: [EVENT_TYPES.transferDispatched, EVENT_TYPES.transferReceived],
      database: (partition) => map.databaseFor(partition),
      check: (event, partition) => {
        checkShard(event, partition);
        const t = event.data as TransferData;
        if (event.type === EVENT_TYPES.transferDispatched) sentBy(event, t.fromRegion, 'the source warehouse’s region');
        else sentBy(event, t.toRegion, 'the destination warehouse’s region');
      },
      owners: transferOwners,
    },
  ];
}
