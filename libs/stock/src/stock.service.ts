import { Inject, Injectable } from '@nestjs/common';
import { KitsService } from '@stockmesh/catalog';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import type { RequestOrigin } from '@stockmesh/http';
import { IdempotencyRepository, ShardDatabases, type IdempotentAnswer, type IdempotentRequest } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { StockChangeOutbox } from './stock-change-outbox.js';
import { applyChange, countReason, lowStockThresholdAfter, storefrontAvailable, type StockChange } from './stock-level.js';
import { StockErrorCode, StockException } from './stock.exception.js';
import { StockRepository, type OwnStockRecord, type StockKey } from './stock.repository.js';
import type { MovementPageView, StockChangeView, StockView } from './stock.views.js';

/**
 * Stock of the warehouses this region owns. Every change is one transaction on the one database
 * hosting the SKU's shard: lock the row, apply the change (or refuse it), write the row, append
 * the ledger entry, write the event to the outbox and record the idempotent answer; all or
 * nothing.
 */
@Injectable()
export class StockService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: StockRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly events: StockChangeOutbox,
    private readonly kits: KitsService,
  ) {}

  shardOf(sku: string): number {
    return shardOf(sku, this.config.cluster.shardCount);
  }

  /**
   * Sets the counted on-hand quantity, the safety stock, the low-stock threshold, or several (at
   * least one): what is not given stays. A count without on-hand is recorded with the reason
   * `safety-stock`, or `low-stock-threshold` when it sets only the threshold (see countReason).
   */
  setCount(
    key: StockKey,
    count: { readonly onHand?: number; readonly safetyStock?: number; readonly lowStockThreshold?: number },
    origin: RequestOrigin,
    idempotent?: IdempotentRequest,
  ): Promise<IdempotentAnswer<StockChangeView>> {
    return this.change(key, { kind: 'set', ...count }, countReason(count), 200, origin, idempotent);
  }

  /** Adds `delta` (negative removes) to on-hand. */
  adjust(
    key: StockKey,
    delta: number,
    reason: string,
    origin: RequestOrigin,
    idempotent?: IdempotentRequest,
  ): Promise<IdempotentAnswer<StockChangeView>> {
    return this.change(key, { kind: 'adjustment', delta }, reason, 201, origin, idempotent);
  }

  async get(key: StockKey): Promise<StockView> {
    const record = await this.databases.read(this.databases.databaseFor(this.shardOf(key.sku)), (tx) => this.repository.find(tx, key));
    if (!record)
      throw new StockException(StockErrorCode.NotFound, `no stock of ${key.sku} is recorded in warehouse ${key.warehouseId}`, { ...key });
    return this.view(record);
  }

  async movements(key: StockKey, limit: number, before?: string): Promise<MovementPageView> {
    const items = await this.databases.read(this.databases.databaseFor(this.shardOf(key.sku)), (tx) =>
      this.repository.movements(tx, key, limit, before),
    );
    return { items, nextBefore: items.length === limit ? items[items.length - 1].seq : null };
  }

  private async change(
    key: StockKey,
    change: StockChange,
    reason: string,
    status: number,
    origin: RequestOrigin,
    idempotent: IdempotentRequest | undefined,
  ): Promise<IdempotentAnswer<StockChangeView>> {
    await this.kits.refuseKitStock([key.sku]);
    const shard = this.shardOf(key.sku);
    const region = this.config.region.id;
    return this.databases.inShard(shard, (tx) =>
      this.idempotency.once(tx, idempotent, async () => {
        let current = await this.repository.lock(tx, key);
        if (!current) {
          await this.repository.createEmpty(tx, key, shard, region);
          current = await this.repository.lock(tx, key);
          if (!current) throw new Error(`stock row ${key.warehouseId}/${key.sku} vanished after insert`);
        }
        const { next, delta } = applyChange(current, change);
        const saved = await this.repository.save(tx, key, next, lowStockThresholdAfter(current.lowStockThreshold, change));
        const movement = await this.repository.appendMovement(tx, {
          ...key,
          shard,
          kind: change.kind,
          delta,
          reason,
          after: next,
          actor: origin.actor,
          requestId: origin.requestId,
          idempotencyKey: idempotent?.key ?? null,
        });
        const [announced] = await this.events.append(tx, [{ record: saved, shard, movement, requestId: origin.requestId }]);
        return { status, body: { ...this.view(announced!), movement } };
      }),
    );
  }

  private view(record: OwnStockRecord): StockView {
    return {
      warehouseId: record.warehouseId,
      sku: record.sku,
      region: record.region,
      onHand: record.onHand,
      reserved: record.reserved,
      safetyStock: record.safetyStock,
      available: storefrontAvailable(record),
      lowStockThreshold: record.lowStockThreshold,
      lowStock: record.lowStock,
      version: record.version,
      updatedAt: record.updatedAt.toISOString(),
      servedBy: this.config.region.id,
    };
  }
}
