import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { IdempotencyRepository, ShardDatabases, type IdempotentAnswer, type IdempotentRequest } from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { kitChangedEntry } from './catalog-events.js';
import { CatalogErrorCode, CatalogException } from './catalog.exception.js';
import type { KitView } from './kit.js';
import { KitRepository, type KitFields } from './kit.repository.js';
import { checkOwnRegion } from './own-region.js';

/**
 * Kits (bundles): a SKU whose units are its components. Part of the catalog, like a channel: a
 * region defines its own kits (in its home database, published on the catalog topic) and knows
 * every other region's once replicated, so any region answers a kit's availability and reserves
 * kits. A kit has no stock of its own: availability and reservations read and hold its components.
 */
@Injectable()
export class KitsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly kits: KitRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly outbox: OutboxRepository,
  ) {}

  /**
   * Defines or changes an own kit: 201 when created, 200 when it existed. Kits do not nest: a
   * component this region knows as a kit, or a kit SKU another known kit takes as a component,
   * is refused (422 `kit-component-is-kit`), so expanding a kit line is always one level deep.
   */
  async define(fields: KitFields, requestId: string | null, idempotent?: IdempotentRequest): Promise<IdempotentAnswer<KitView>> {
    checkOwnRegion(this.config, fields.region);
    return this.databases.inDatabase(this.databases.home(), (tx) =>
      this.idempotency.once(tx, idempotent, async () => {
        const componentSkus = fields.components.map((c) => c.sku);
        const nested = (await this.kits.findMany(tx, componentSkus)).map((k) => k.sku);
        if (componentSkus.includes(fields.sku)) nested.push(fields.sku);
        if (nested.length > 0) {
          throw new CatalogException(CatalogErrorCode.KitComponentIsKit, `kits do not nest: ${nested.join(', ')} is a kit`, {
            skus: nested,
          });
        }
        const taking = await this.kits.containing(tx, [fields.sku]);
        if (taking.length > 0) {
          throw new CatalogException(
            CatalogErrorCode.KitComponentIsKit,
            `kits do not nest: ${fields.sku} is a component of kit ${taking.map((k) => k.sku).join(', ')}`,
            { skus: [fields.sku], kits: taking.map((k) => k.sku) },
          );
        }
        const existing = await this.kits.lock(tx, fields.sku);
        if (!existing) {
          const created = await this.kits.insert(tx, fields);
          if (created) {
            await this.outbox.append(tx, [kitChangedEntry(created, requestId)]);
            return { status: 201, body: created };
          }
        }
        const current = existing ?? (await this.kits.lock(tx, fields.sku));
        if (current && current.region !== fields.region) {
          throw new CatalogException(CatalogErrorCode.KitRegionConflict, `kit ${fields.sku} is defined by region ${current.region}`, {
            region: current.region,
          });
        }
        const unchanged =
          current &&
          current.components.length === fields.components.length &&
          current.components.every((c, i) => c.sku === fields.components[i].sku && c.quantity === fields.components[i].quantity);
        if (unchanged) return { status: 200, body: current };
        const updated = await this.kits.update(tx, fields);
        await this.outbox.append(tx, [kitChangedEntry(updated, requestId)]);
        return { status: 200, body: updated };
      }),
    );
  }

  async list(): Promise<KitView[]> {
    return this.databases.read(this.databases.home(), (tx) => this.kits.list(tx));
  }

  /** The kit, or 404 `kit-not-found`. */
  async get(sku: string): Promise<KitView> {
    const [kit] = await this.among([sku]);
    if (!kit) throw new CatalogException(CatalogErrorCode.KitNotFound, `no kit ${sku}`, { sku });
    return kit;
  }

  /** The kits this region knows among `skus`, by SKU: availability and reservations expand them. */
  async kitsAmong(skus: readonly string[]): Promise<ReadonlyMap<string, KitView>> {
    return new Map((await this.among(skus)).map((k) => [k.sku, k]));
  }

  /**
   * Refuses (422 `kit-not-stocked`) a stock write to a SKU this region knows as a kit: a kit's
   * units are its components, so a row of its own would be counted by no one and sold by no one.
   */
  async refuseKitStock(skus: readonly string[]): Promise<void> {
    const kits = await this.among([...new Set(skus)]);
    if (kits.length === 0) return;
    const named = kits.map((k) => k.sku).sort();
    throw new CatalogException(
      CatalogErrorCode.KitNotStocked,
      `${named.join(', ')} is a kit: its units are its components, count or adjust those instead`,
      { skus: named },
    );
  }

  private among(skus: readonly string[]): Promise<KitView[]> {
    return this.databases.read(this.databases.home(), (tx) => this.kits.findMany(tx, skus));
  }
}
