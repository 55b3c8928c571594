import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { OwnerDirectory } from '@stockmesh/http';
import { IdempotencyRepository, ShardDatabases, type IdempotentAnswer, type IdempotentRequest } from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { warehouseChangedEntry } from './catalog-events.js';
import { CatalogErrorCode, CatalogException } from './catalog.exception.js';
import { checkOwnRegion } from './own-region.js';
import { CatalogRepository, type WarehouseFields } from './catalog.repository.js';
import type { WarehouseView } from './warehouse.js';

/**
 * The warehouse catalog of this region, kept in its home database. A region registers only its
 * own warehouses; it also knows other regions' warehouses (their catalog replicates to it), which
 * is how a request for any warehouse finds its owner.
 */
@Injectable()
export class CatalogService implements OwnerDirectory {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: CatalogRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly outbox: OutboxRepository,
  ) {}

  /** Registers or updates an own warehouse: 201 when created, 200 when it existed. */
  async register(
    fields: WarehouseFields,
    requestId: string | null,
    idempotent?: IdempotentRequest,
  ): Promise<IdempotentAnswer<WarehouseView>> {
    checkOwnRegion(this.config, fields.region);
    return this.databases.inDatabase(this.databases.home(), (tx) =>
      this.idempotency.once(tx, idempotent, async () => {
        const existing = (await this.repository.lock(tx, fields.id)) ?? undefined;
        if (!existing) {
          const created = await this.repository.insert(tx, fields);
          if (created) {
            await this.outbox.append(tx, [warehouseChangedEntry(created, requestId)]);
            return { status: 201, body: created };
          }
        }
        const current = existing ?? (await this.repository.lock(tx, fields.id));
        if (current && current.region !== fields.region) {
          throw new CatalogException(CatalogErrorCode.RegionConflict, `warehouse ${fields.id} belongs to region ${current.region}`, {
            region: current.region,
          });
        }
        const unchanged =
          current && current.name === fields.name && current.latitude === fields.latitude && current.longitude === fields.longitude;
        if (unchanged) return { status: 200, body: current };
        const updated = await this.repository.update(tx, fields);
        await this.outbox.append(tx, [warehouseChangedEntry(updated, requestId)]);
        return { status: 200, body: updated };
      }),
    );
  }

  async list(): Promise<WarehouseView[]> {
    return this.databases.read(this.databases.home(), (tx) => this.repository.list(tx));
  }

  async ownerOfWarehouse(warehouseId: string): Promise<string | undefined> {
    return this.databases.read(this.databases.home(), (tx) => this.repository.regionOf(tx, warehouseId));
  }
}
