import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReplicationStatus } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import { AvailabilityRepository } from './availability.repository.js';
import type { AvailabilityView, WarehouseAvailabilityView } from './availability.views.js';
import { withinChannel, type ChannelSelection } from './channel-selection.js';

/**
 * Global availability from this region's local data alone: its own rows and its replicas of
 * every other region's, read from the one database hosting the SKU's shard. Never calls
 * another region; the freshness of each region's numbers is part of the answer.
 */
@Injectable()
export class AvailabilityService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: AvailabilityRepository,
    private readonly replication: ReplicationStatus,
  ) {}

  async get(sku: string, channel?: ChannelSelection): Promise<AvailabilityView> {
    const [item] = await this.query([sku], channel);
    return item;
  }

  /**
   * One answer per SKU, in request order; one query per database that hosts any of them. With a
   * channel, only its warehouses count, listed in its order.
   */
  async query(skus: readonly string[], channel?: ChannelSelection): Promise<AvailabilityView[]> {
    const byDatabase = new Map<string, Set<string>>();
    for (const sku of skus) {
      const db = this.databases.databaseFor(shardOf(sku, this.config.cluster.shardCount));
      byDatabase.set(db.name, (byDatabase.get(db.name) ?? new Set()).add(sku));
    }
    const found = new Map<string, WarehouseAvailabilityView[]>();
    await Promise.all(
      this.databases
        .all()
        .filter((db) => byDatabase.has(db.name))
        .map(async (db) => {
          const rows = await this.databases.read(db, (tx) => this.repository.rows(tx, [...(byDatabase.get(db.name) ?? [])]));
          for (const [sku, list] of rows) found.set(sku, list);
        }),
    );
    const freshness = this.replication.all();
    return skus.map((sku) => {
      const all = found.get(sku) ?? [];
      const warehouses = channel ? withinChannel(all, channel.warehouseIds) : all;
      const onHand = warehouses.reduce((sum, w) => sum + w.onHand, 0);
      const reserved = warehouses.reduce((sum, w) => sum + w.reserved, 0);
      const safetyStock = warehouses.reduce((sum, w) => sum + w.safetyStock, 0);
      // Summed per warehouse: one warehouse's safety stock above its on-hand takes nothing from another's.
      const available = warehouses.reduce((sum, w) => sum + w.available, 0);
      return {
        sku,
        channel: channel?.id ?? null,
        onHand,
        reserved,
        safetyStock,
        available,
        warehouses,
        servedBy: this.config.region.id,
        freshness,
      };
    });
  }
}
