import { Inject, Injectable } from '@nestjs/common';
import { KitsService, type KitView } from '@stockmesh/catalog';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReplicationStatus } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import { AvailabilityRepository } from './availability.repository.js';
import type { AvailabilityView, IncomingDayView, WarehouseAvailabilityView } from './availability.views.js';
import { withinChannel, type ChannelSelection } from './channel-selection.js';
import { kitAvailability } from './kit-availability.js';

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
    private readonly kits: KitsService,
  ) {}

  async get(sku: string, channel?: ChannelSelection): Promise<AvailabilityView> {
    const [item] = await this.query([sku], channel);
    return item;
  }

  /**
   * One answer per SKU, in request order; one query per database that hosts any of them. With a
   * channel, only its warehouses count, listed in its order. A kit is answered from its
   * components' rows (read with the others), counted exactly as a plain SKU's (channel, safety stock).
   */
  async query(skus: readonly string[], channel?: ChannelSelection): Promise<AvailabilityView[]> {
    return this.views(skus, await this.kits.kitsAmong(skus), channel);
  }

  /**
   * `query` for SKUs taken as stock rows, none as a kit (the catalog's kits are not looked up):
   * a reservation's lines once their kits are expanded into components.
   */
  rows(skus: readonly string[], channel?: ChannelSelection): Promise<AvailabilityView[]> {
    return this.views(skus, new Map(), channel);
  }

  private async views(
    skus: readonly string[],
    kits: ReadonlyMap<string, KitView>,
    channel: ChannelSelection | undefined,
  ): Promise<AvailabilityView[]> {
    const rowSkus = new Set(skus.filter((sku) => !kits.has(sku)));
    for (const kit of kits.values()) for (const c of kit.components) rowSkus.add(c.sku);
    const byDatabase = new Map<string, Set<string>>();
    for (const sku of rowSkus) {
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
    const rowsOf = (sku: string): WarehouseAvailabilityView[] => {
      const all = found.get(sku) ?? [];
      return channel ? withinChannel(all, channel.warehouseIds) : all;
    };
    return skus.map((sku) => {
      const kit = kits.get(sku);
      if (kit) {
        const { available, components, warehouses } = kitAvailability(kit, rowsOf);
        return {
          sku,
          channel: channel?.id ?? null,
          // A kit has no rows of its own: its units are its components'.
          onHand: 0,
          reserved: 0,
          safetyStock: 0,
          backordered: 0,
          available,
          incoming: [],
          warehouses: [],
          kit: { components, warehouses },
          servedBy: this.config.region.id,
          freshness,
        };
      }
      const warehouses = rowsOf(sku);
      const onHand = warehouses.reduce((sum, w) => sum + w.onHand, 0);
      const reserved = warehouses.reduce((sum, w) => sum + w.reserved, 0);
      const safetyStock = warehouses.reduce((sum, w) => sum + w.safetyStock, 0);
      const backordered = warehouses.reduce((sum, w) => sum + w.backordered, 0);
      // Summed per warehouse: one warehouse's safety stock above its on-hand takes nothing from another's.
      const available = warehouses.reduce((sum, w) => sum + w.available, 0);
      return {
        sku,
        channel: channel?.id ?? null,
        onHand,
        reserved,
        safetyStock,
        backordered,
        available,
        incoming: incomingByDay(warehouses, available),
        warehouses,
        kit: null,
        servedBy: this.config.region.id,
        freshness,
      };
    });
  }
}

/**
 * The warehouses' open receipts by expected day, earliest first, each with what can be promised by
 * then: what is available now plus every unit expected up to and including that day that is not
 * promised to a backorder already. A warehouse's backorders take its earliest receipts first.
 */
export function incomingByDay(
  warehouses: readonly Pick<WarehouseAvailabilityView, 'incoming' | 'backordered'>[],
  available: number,
): IncomingDayView[] {
  const days = [...new Set(warehouses.flatMap((w) => w.incoming.map((r) => r.expectedAt)))].sort();
  return days.map((day) => {
    let quantity = 0;
    let promisable = available;
    for (const w of warehouses) {
      const upToDay = w.incoming.filter((r) => r.expectedAt <= day).reduce((sum, r) => sum + r.quantity, 0);
      quantity += w.incoming.filter((r) => r.expectedAt === day).reduce((sum, r) => sum + r.quantity, 0);
      promisable += Math.max(0, upToDay - w.backordered);
    }
    return { expectedAt: day, quantity, promisable };
  });
}
