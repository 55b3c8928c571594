import { Inject, Injectable } from '@nestjs/common';
import { KitsService } from '@stockmesh/catalog';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import type { RequestOrigin } from '@stockmesh/http';
import { IdempotencyRepository, ShardDatabases, type IdempotentAnswer, type IdempotentRequest, type SqlTx } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { StockChangeOutbox } from './stock-change-outbox.js';
import {
  cancelIncoming,
  expectIncoming,
  planBackorderFill,
  receiveIncoming,
  unbackedPromises,
  type IncomingChange,
  type IncomingReceipt,
} from './incoming-stock/incoming-receipts.js';
import {
  applyChange,
  countReason,
  lowStockThresholdAfter,
  storefrontAvailable,
  type AppliedChange,
  type StockChange,
} from './stock-level.js';
import { StockErrorCode, StockException } from './stock.exception.js';
import { HoldErrorCode, HoldException } from './holds/hold.exception.js';
import { HoldRepository } from './holds/hold.repository.js';
import { StockRepository, type MovementKind, type OwnStockRecord, type StockKey } from './stock.repository.js';
import type { MovementPageView, StockChangeView, StockView } from './stock.views.js';

/** How StockService.write treats a change beyond deciding it. */
interface WriteOptions {
  /** Make a missing row empty first (default); otherwise a missing row is 404 stock-not-found. */
  readonly create?: boolean;
  /** The count that may set the low-stock threshold (else the threshold stays). */
  readonly count?: StockChange;
  /**
   * Changes the row further in the same transaction (a receipt filling backorders), given the row
   * as written and as it was before; returns the row after, or `undefined` when it changed nothing.
   * The row's alerts are decided on the row as it ends.
   */
  readonly andThen?: (tx: SqlTx, saved: OwnStockRecord, shard: number, before: OwnStockRecord) => Promise<OwnStockRecord | undefined>;
}

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
    private readonly holds: HoldRepository,
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

  /**
   * Announces an incoming receipt of the row (a purchase order or an advance shipping notice), or
   * changes one announced already: `quantity` units still expected on `expectedAt`. A missing row
   * starts at 0 on hand. Recorded in the ledger as a count of nothing (`set`, delta 0) with the
   * reason `incoming`.
   */
  expectIncoming(
    key: StockKey,
    receipt: IncomingReceipt,
    origin: RequestOrigin,
    idempotent?: IdempotentRequest,
  ): Promise<IdempotentAnswer<StockChangeView>> {
    return this.write(key, (current) => expectIncoming(current, receipt), { kind: 'set', reason: 'incoming' }, 200, origin, idempotent);
  }

  /** Cancels an open incoming receipt of the row (ledger: `set`, delta 0, reason `incoming-cancelled`). */
  cancelIncoming(
    key: StockKey,
    receiptId: string,
    origin: RequestOrigin,
    idempotent?: IdempotentRequest,
  ): Promise<IdempotentAnswer<StockChangeView>> {
    return this.write(
      key,
      (current) => cancelIncoming(current, receiptId),
      { kind: 'set', reason: 'incoming-cancelled' },
      200,
      origin,
      idempotent,
      { create: false },
    );
  }

  /**
   * Receives units of an open receipt: they go on hand (ledger: an `adjustment` with the reason
   * `received`), the receipt expects that many fewer, and closes when nothing more is expected or
   * `close` says so.
   */
  receiveIncoming(
    key: StockKey,
    receiptId: string,
    quantity: number,
    close: boolean,
    origin: RequestOrigin,
    idempotent?: IdempotentRequest,
  ): Promise<IdempotentAnswer<StockChangeView>> {
    return this.write(
      key,
      (current) => receiveIncoming(current, receiptId, quantity, close),
      { kind: 'adjustment', reason: 'received' },
      201,
      origin,
      idempotent,
      { create: false, andThen: (tx, saved, shard, before) => this.fillBackorders(tx, before, saved, shard, quantity, origin) },
    );
  }

  /**
   * After units of a receipt went on hand (in the same transaction, the row still locked): they
   * fill the row's backorders, oldest hold first (planBackorderFill), as a second change of the
   * row with its own version, ledger entry (reason `backorder`: a `commit` of the units that
   * shipped to committed backorders, else a `hold` of 0) and event. Holds whose commit or release
   * is running now are skipped (HoldRepository.lockBackordered): the next receipt fills them.
   * `undefined` when it filled nothing.
   */
  private async fillBackorders(
    tx: SqlTx,
    before: OwnStockRecord,
    saved: OwnStockRecord,
    shard: number,
    received: number,
    origin: RequestOrigin,
  ): Promise<OwnStockRecord | undefined> {
    if (saved.backordered === 0) return undefined;
    const fill = planBackorderFill(saved, await this.holds.lockBackordered(tx, saved), received);
    // A hold passed over (its commit, release or renewal runs now) may leave promises that the
    // receipts no longer cover: then nothing changes, and the receipt is asked again (503 busy;
    // with its Idempotency-Key a retry receives once).
    const unbacked = unbackedPromises(fill?.next.backordered ?? saved.backordered, saved.incoming);
    if (unbacked > unbackedPromises(before.backordered, before.incoming)) {
      throw new HoldException(
        HoldErrorCode.Busy,
        'a backorder these units would fill is being changed right now; nothing was received, ask again',
      );
    }
    if (!fill) return undefined;
    await this.holds.setBackordered(tx, fill.holds);
    const key = { warehouseId: saved.warehouseId, sku: saved.sku };
    const row = await this.repository.save(tx, key, fill.next, saved.lowStockThreshold);
    const movement = await this.repository.appendMovement(tx, {
      ...key,
      shard,
      kind: fill.shipped > 0 ? 'commit' : 'hold',
      delta: -fill.shipped,
      reason: 'backorder',
      after: fill.next,
      actor: origin.actor,
      requestId: origin.requestId,
      idempotencyKey: null,
    });
    const [announced] = await this.events.append(tx, [{ record: row, shard, movement, requestId: origin.requestId }]);
    return announced!;
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

  private change(
    key: StockKey,
    change: StockChange,
    reason: string,
    status: number,
    origin: RequestOrigin,
    idempotent: IdempotentRequest | undefined,
  ): Promise<IdempotentAnswer<StockChangeView>> {
    return this.write(key, (current) => applyChange(current, change), { kind: change.kind, reason }, status, origin, idempotent, {
      count: change,
    });
  }

  /**
   * One change of a row, in one transaction on its shard's database: lock the row (made empty at
   * version 0 first if `create` and it is missing; otherwise a missing row is 404 stock-not-found),
   * decide the change (or refuse it), write the row, append the ledger entry, write the event to
   * the outbox and record the idempotent answer; all or nothing. A decision that gives `incoming`
   * replaces the row's receipts; see WriteOptions for the rest.
   */
  private async write(
    key: StockKey,
    decide: (current: OwnStockRecord) => AppliedChange | IncomingChange,
    ledger: { readonly kind: MovementKind; readonly reason: string },
    status: number,
    origin: RequestOrigin,
    idempotent: IdempotentRequest | undefined,
    { create = true, count, andThen }: WriteOptions = {},
  ): Promise<IdempotentAnswer<StockChangeView>> {
    await this.kits.refuseKitStock([key.sku]);
    const shard = this.shardOf(key.sku);
    const region = this.config.region.id;
    return this.databases.inShard(shard, (tx) =>
      this.idempotency.once(tx, idempotent, async () => {
        let current = await this.repository.lock(tx, key);
        if (!current && create) {
          await this.repository.createEmpty(tx, key, shard, region);
          current = await this.repository.lock(tx, key);
          if (!current) throw new Error(`stock row ${key.warehouseId}/${key.sku} vanished after insert`);
        }
        // Version 0: an empty row only a transaction making it can see (createEmpty); not a row yet.
        if (!current || (!create && current.version === 0)) {
          throw new StockException(StockErrorCode.NotFound, `no stock of ${key.sku} is recorded in warehouse ${key.warehouseId}`, {
            ...key,
          });
        }
        const decided = decide(current);
        const threshold = count ? lowStockThresholdAfter(current.lowStockThreshold, count) : current.lowStockThreshold;
        const saved = await this.repository.save(tx, key, decided.next, threshold, 'incoming' in decided ? decided.incoming : undefined);
        const movement = await this.repository.appendMovement(tx, {
          ...key,
          shard,
          kind: ledger.kind,
          delta: decided.delta,
          reason: ledger.reason,
          after: decided.next,
          actor: origin.actor,
          requestId: origin.requestId,
          idempotencyKey: idempotent?.key ?? null,
        });
        const change = { record: saved, shard, movement, requestId: origin.requestId };
        // With a further change to come, the alerts are decided on the row as it ends, not in between.
        const [announced] = await this.events.append(tx, [change], { alerts: andThen === undefined });
        const further = andThen && (await andThen(tx, announced!, shard, current));
        const [final] = further ? [further] : andThen ? await this.events.appendAlerts(tx, [change]) : [announced];
        return { status, body: { ...this.view(final!), movement } };
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
      incoming: record.incoming.map((r) => ({ ...r })),
      backordered: record.backordered,
      lowStockThreshold: record.lowStockThreshold,
      lowStock: record.lowStock,
      version: record.version,
      updatedAt: record.updatedAt.toISOString(),
      servedBy: this.config.region.id,
    };
  }
}
