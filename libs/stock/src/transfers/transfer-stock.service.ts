import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { MAX_QUANTITY } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { StockChangeOutbox } from '../stock-change-outbox.js';
import { StockErrorCode, StockException } from '../stock.exception.js';
import { StockRepository, type OwnStockRecord, type StockKey } from '../stock.repository.js';
import { StockReplicaRepository } from '../stock-replica.repository.js';

/** One row's side of a transfer, and who asked for it (for the ledger). */
export interface TransferLeg extends StockKey {
  readonly shard: number;
  /** Who made the change: the API key of the request at the source, `transfer:<id>` at the destination. */
  readonly actor: string;
  /** The request that made the transfer, on both legs (the destination gets it as the event's correlation id). */
  readonly requestId: string | null;
  readonly idempotencyKey: string | null;
  /** The ledger entry's reason; `transfer` unless the units come back for another cause (e.g. `transfer-cancelled`). */
  readonly reason?: string;
}

/** A row after a leg of a transfer. */
export interface TransferRowView extends StockKey {
  readonly region: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly available: number;
  readonly version: number;
}

/**
 * The stock side of transfers, always inside the caller's transaction on the database hosting
 * the SKU's shard: each leg changes one own row with a conditional statement, appends its ledger
 * entry and writes the row's `stock.changed` event to the outbox, so the transfer's own record
 * and events (libs/transfers) commit or roll back together with the units.
 */
@Injectable()
export class TransferStockService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stock: StockRepository,
    private readonly replicas: StockReplicaRepository,
    private readonly events: StockChangeOutbox,
  ) {}

  /** Locks both rows of a transfer within this region, in a fixed order (no deadlock). */
  async lockBoth(tx: SqlTx, sku: string, fromWarehouseId: string, toWarehouseId: string): Promise<void> {
    await this.stock.lockInOrder(tx, sku, [fromWarehouseId, toWarehouseId]);
  }

  /** Takes the units out of on-hand; 409 insufficient-stock when fewer are available (reserved units stay). */
  async takeOut(tx: SqlTx, leg: TransferLeg, quantity: number): Promise<TransferRowView> {
    const row = await this.stock.takeOutIfAvailable(tx, leg, quantity);
    if (!row) {
      const current = await this.stock.find(tx, leg);
      const available = current ? current.onHand - current.reserved : 0;
      throw new StockException(StockErrorCode.Insufficient, `only ${available} of ${leg.sku} are available in ${leg.warehouseId}`, {
        warehouseId: leg.warehouseId,
        sku: leg.sku,
        requested: quantity,
        available,
      });
    }
    return this.record(tx, row, leg, 'transfer-out', -quantity);
  }

  /**
   * Puts the units into an own row, creating it if missing. `undefined` when the row would hold
   * more than MAX_QUANTITY; nothing changed then (the caller decides: refuse, or send back).
   */
  async putIn(
    tx: SqlTx,
    leg: TransferLeg,
    quantity: number,
    kind: 'transfer-in' | 'transfer-return',
  ): Promise<TransferRowView | undefined> {
    await this.stock.createEmpty(tx, leg, leg.shard, this.config.region.id);
    const row = await this.stock.putInIfRoom(tx, leg, quantity, MAX_QUANTITY);
    return row && this.record(tx, row, leg, kind, quantity);
  }

  /**
   * Whether an own row could take `quantity` more units now (a missing row can). Only a hint for
   * refusing early: `putIn` is what guarantees the bound.
   */
  async hasRoomFor(tx: SqlTx, key: StockKey, quantity: number): Promise<boolean> {
    const row = await this.stock.find(tx, key);
    return (row?.onHand ?? 0) + quantity <= MAX_QUANTITY;
  }

  /** On-hand of another region's row as last replicated here (0 when unknown). */
  replicaOnHand(tx: SqlTx, key: StockKey): Promise<number> {
    return this.replicas.onHand(tx, key);
  }

  private async record(
    tx: SqlTx,
    row: OwnStockRecord,
    leg: TransferLeg,
    kind: 'transfer-out' | 'transfer-in' | 'transfer-return',
    delta: number,
  ): Promise<TransferRowView> {
    const movement = await this.stock.appendMovement(tx, {
      warehouseId: row.warehouseId,
      sku: row.sku,
      shard: leg.shard,
      kind,
      delta,
      reason: leg.reason ?? 'transfer',
      after: row,
      actor: leg.actor,
      requestId: leg.requestId,
      idempotencyKey: leg.idempotencyKey,
    });
    await this.events.append(tx, [{ record: row, shard: leg.shard, movement, requestId: leg.requestId }]);
    return {
      warehouseId: row.warehouseId,
      sku: row.sku,
      region: row.region,
      onHand: row.onHand,
      reserved: row.reserved,
      available: row.onHand - row.reserved,
      version: row.version,
    };
  }
}
