import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { ChannelDirectory } from '@stockmesh/http';
import { IdempotencyRepository, ShardDatabases, type IdempotentAnswer, type IdempotentRequest } from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { channelChangedEntry } from './catalog-events.js';
import { CatalogErrorCode, CatalogException } from './catalog.exception.js';
import { CatalogRepository } from './catalog.repository.js';
import type { ChannelView } from './channel.js';
import { ChannelRepository, type ChannelFields } from './channel.repository.js';
import { checkOwnRegion } from './own-region.js';

/**
 * Sales channels: which warehouses a storefront sells from, and in which order its reservations
 * draw from them. Part of the catalog: a region defines its own channels (in its home database,
 * published on the catalog topic) and knows every other region's once replicated, so any region
 * answers availability and makes reservations for any channel.
 */
@Injectable()
export class ChannelsService implements ChannelDirectory {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly channels: ChannelRepository,
    private readonly warehouses: CatalogRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly outbox: OutboxRepository,
  ) {}

  /**
   * Defines or changes an own channel: 201 when created, 200 when it existed. Every warehouse it
   * names must be in this region's catalog (any region's warehouse, once replicated here).
   */
  async define(fields: ChannelFields, requestId: string | null, idempotent?: IdempotentRequest): Promise<IdempotentAnswer<ChannelView>> {
    checkOwnRegion(this.config, fields.region);
    return this.databases.inDatabase(this.databases.home(), (tx) =>
      this.idempotency.once(tx, idempotent, async () => {
        const known = await this.warehouses.known(tx, fields.warehouseIds);
        const unknown = fields.warehouseIds.filter((id) => !known.has(id));
        if (unknown.length > 0) {
          throw new CatalogException(
            CatalogErrorCode.UnknownWarehouse,
            `this region's catalog has no warehouse ${unknown.join(', ')}; register it first (another region's appears here once replicated)`,
            { warehouseIds: unknown },
          );
        }
        const existing = await this.channels.lock(tx, fields.id);
        if (!existing) {
          const created = await this.channels.insert(tx, fields);
          if (created) {
            await this.outbox.append(tx, [channelChangedEntry(created, requestId)]);
            return { status: 201, body: created };
          }
        }
        const current = existing ?? (await this.channels.lock(tx, fields.id));
        if (current && current.region !== fields.region) {
          throw new CatalogException(
            CatalogErrorCode.ChannelRegionConflict,
            `channel ${fields.id} is defined by region ${current.region}`,
            {
              region: current.region,
            },
          );
        }
        const unchanged =
          current &&
          current.name === fields.name &&
          current.warehouseIds.length === fields.warehouseIds.length &&
          current.warehouseIds.every((id, i) => id === fields.warehouseIds[i]);
        if (unchanged) return { status: 200, body: current };
        const updated = await this.channels.update(tx, fields);
        await this.outbox.append(tx, [channelChangedEntry(updated, requestId)]);
        return { status: 200, body: updated };
      }),
    );
  }

  async list(): Promise<ChannelView[]> {
    return this.databases.read(this.databases.home(), (tx) => this.channels.list(tx));
  }

  /** The channel, or 404 `channel-not-found`. */
  async get(id: string): Promise<ChannelView> {
    const channel = await this.find(id);
    if (!channel) throw new CatalogException(CatalogErrorCode.ChannelNotFound, `no channel ${id}`, { channelId: id });
    return channel;
  }

  /** The channel a request names, or 422 `unknown-channel`: for availability and reservations. */
  async resolve(id: string): Promise<ChannelView> {
    const channel = await this.find(id);
    if (!channel) {
      throw new CatalogException(
        CatalogErrorCode.UnknownChannel,
        `this region knows no channel ${id} (one defined in another region moments ago may not have replicated yet)`,
        { channelId: id },
      );
    }
    return channel;
  }

  /**
   * The channel a request is for: the one its key is bound to, or else the one it names (422
   * `unknown-channel` if unknown), or none. A bound key naming another channel is refused (403
   * `channel-forbidden`): its answers and reservations are its channel's only.
   */
  async forRequest(named: string | undefined, principal: { readonly channel?: string }): Promise<ChannelView | undefined> {
    const bound = principal.channel;
    if (bound !== undefined && named !== undefined && named !== bound) {
      throw new CatalogException(
        CatalogErrorCode.ChannelForbidden,
        `this API key is bound to channel ${bound}; it may not ask for ${named}`,
        {
          channelId: named,
          boundTo: bound,
        },
      );
    }
    const id = bound ?? named;
    return id === undefined ? undefined : this.resolve(id);
  }

  async knowsChannel(channelId: string): Promise<boolean> {
    return (await this.find(channelId)) !== undefined;
  }

  private find(id: string): Promise<ChannelView | undefined> {
    return this.databases.read(this.databases.home(), (tx) => this.channels.find(tx, id));
  }
}
