import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { OwnerDirectory, RoutingException, ValidationProblem } from '@stockmesh/http';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReplicationStatus } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import { StockReplicaRepository } from '../stock-replica.repository.js';
import { storefrontAvailable } from '../stock-level.js';
import { StockRepository } from '../stock.repository.js';
import { decodeStockCursor, encodeStockCursor } from './stock-cursor.js';
import type { WarehouseStockPageView, WarehouseStockRowView } from './warehouse-stock.views.js';

/**
 * Pages through one warehouse's rows by SKU for reconciliation, from this region's own data:
 * the owner reads its `stock` table, every other region its `stock_replica` (and says how fresh
 * it is). A warehouse's rows are spread over every database (by the SKU's shard), so each page
 * asks each database for its next `limit` rows and merges them; the cursor is the last SKU
 * returned, so a page never repeats or skips a row that exists throughout, whatever changes.
 */
@Injectable()
export class WarehouseStockService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly stock: StockRepository,
    private readonly replicas: StockReplicaRepository,
    private readonly directory: OwnerDirectory,
    private readonly replication: ReplicationStatus,
  ) {}

  async page(warehouseId: string, limit: number, cursor: string | undefined): Promise<WarehouseStockPageView> {
    const after = cursor === undefined ? null : decodeStockCursor(cursor);
    if (after === undefined) {
      throw new ValidationProblem([{ field: 'cursor', constraint: 'cursor', message: 'cursor must be a nextCursor returned by this API' }]);
    }
    const region = await this.directory.ownerOfWarehouse(warehouseId);
    if (region === undefined)
      throw new RoutingException('warehouse-not-found', `warehouse ${warehouseId} is not registered`, { warehouseId });
    const own = region === this.config.region.id;
    const pages = await Promise.all(
      this.databases.all().map((db) =>
        this.databases.read(db, async (tx): Promise<WarehouseStockRowView[]> => {
          const rows = own
            ? (await this.stock.pageOfWarehouse(tx, warehouseId, after, limit + 1)).map((r) => ({ ...r, appliedAt: r.updatedAt }))
            : await this.replicas.pageOfWarehouse(tx, warehouseId, after, limit + 1);
          return rows
            .filter((r) => this.databases.hosts(db, shardOf(r.sku, this.config.cluster.shardCount)))
            .map((r) => ({
              sku: r.sku,
              onHand: r.onHand,
              reserved: r.reserved,
              safetyStock: r.safetyStock,
              available: storefrontAvailable(r),
              incoming: r.incoming.map((i) => ({ ...i })),
              backordered: r.backordered,
              version: r.version,
              updatedAt: r.updatedAt.toISOString(),
              appliedAt: r.appliedAt.toISOString(),
            }));
        }),
      ),
    );
    // Byte order, as the queries sort (COLLATE "C"); identifiers are ASCII, so code units are bytes.
    const merged = pages.flat().sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    const items = merged.slice(0, limit);
    // Each database was asked for one row more than a page: fewer in all means every one is exhausted.
    const nextCursor = merged.length > limit ? encodeStockCursor(items[items.length - 1].sku) : null;
    const freshness = own ? undefined : this.replication.all().find((f) => f.region === region);
    return {
      warehouseId,
      region,
      source: own ? 'owner' : 'replica',
      servedBy: this.config.region.id,
      ...(freshness ? { freshness } : {}),
      items,
      nextCursor,
      next: nextCursor === null ? null : `/v1/warehouses/${encodeURIComponent(warehouseId)}/stock?limit=${limit}&cursor=${nextCursor}`,
    };
  }
}
