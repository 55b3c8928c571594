import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { MAX_QUANTITY, PoisonEventError, type TransferData, type TransferReceivedData } from '@stockmesh/contracts';
import { OwnerDirectory, type RequestOrigin } from '@stockmesh/http';
import {
  IdempotencyException,
  IdempotencyRepository,
  ShardDatabases,
  type IdempotentAnswer,
  type IdempotentRequest,
  type SqlTx,
} from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import { TransferStockService, type TransferLeg } from '@stockmesh/stock';
import { randomUUID } from 'node:crypto';
import { transferData, transferDispatchedEntry, transferReceivedEntry } from './transfer-events.js';
import { TransferErrorCode, TransferException } from './transfer.exception.js';
import { TransferRepository, type TransferRecord } from './transfer.repository.js';
import type { TransferView } from './transfer.views.js';

export interface NewTransfer {
  readonly sku: string;
  readonly fromWarehouseId: string;
  readonly toWarehouseId: string;
  readonly quantity: number;
}

/**
 * Transfers of units between two warehouses. The source warehouse's owner serves the request in
 * one transaction on the database hosting the SKU's shard: it claims the Idempotency-Key, takes
 * the units out of the source row (never below what is reserved), records the transfer and
 * writes the row's `stock.changed` and the transfer's `dispatched` event to the outbox.
 *
 * - Within one region both rows share that database: the units go in too, in the same
 *   transaction, and the transfer is `completed` at once.
 * - Across regions the transfer stays `pending` while its units are in transit. The
 *   destination's owner applies `dispatched` in the replicator's transaction (with the consumer
 *   position): it claims a receipt keyed by transfer id and only then adds the units, so a
 *   re-delivered event changes nothing. Its `received` event then settles the transfer at the
 *   source. Units are counted exactly once throughout: at the source, in transit (pending, no
 *   receipt yet), or at the destination.
 */
@Injectable()
export class TransfersService {
  private readonly logger = new Logger(TransfersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: TransferRepository,
    private readonly stock: TransferStockService,
    private readonly idempotency: IdempotencyRepository,
    private readonly outbox: OutboxRepository,
    private readonly directory: OwnerDirectory,
  ) {}

  /** Moves the units out of the source (and into the destination when it is in this region). */
  async create(request: NewTransfer, origin: RequestOrigin, idempotent: IdempotentRequest): Promise<IdempotentAnswer<TransferView>> {
    const region = this.config.region.id;
    const toRegion = await this.destinationRegion(request.toWarehouseId);
    const shard = shardOf(request.sku, this.config.cluster.shardCount);
    await this.refuseKeyUsedElsewhere(shard, idempotent);
    const sameRegion = toRegion === region;
    const leg = (warehouseId: string): TransferLeg => ({
      warehouseId,
      sku: request.sku,
      shard,
      actor: origin.actor,
      requestId: origin.requestId,
      idempotencyKey: idempotent.key,
    });
    return this.databases.inShard(shard, (tx) =>
      this.idempotency.once(tx, idempotent, async () => {
        if (sameRegion) await this.stock.lockBoth(tx, request.sku, request.fromWarehouseId, request.toWarehouseId);
        else await this.refuseIfDestinationFull(tx, request);
        await this.stock.takeOut(tx, leg(request.fromWarehouseId), request.quantity);
        if (sameRegion && !(await this.stock.putIn(tx, leg(request.toWarehouseId), request.quantity, 'transfer-in'))) {
          throw this.tooMuch(request);
        }
        const record = await this.repository.insert(tx, {
          id: `${region}.${randomUUID()}`,
          sku: request.sku,
          shard,
          fromWarehouseId: request.fromWarehouseId,
          fromRegion: region,
          toWarehouseId: request.toWarehouseId,
          toRegion,
          quantity: request.quantity,
          status: sameRegion ? 'completed' : 'pending',
        });
        const data = transferData(record);
        // A transfer within the region publishes both events too: every transfer has one of each.
        await this.outbox.append(tx, [
          transferDispatchedEntry(data, record.createdAt, origin.requestId),
          ...(sameRegion ? [transferReceivedEntry(data, 'received', record.createdAt, origin.requestId)] : []),
        ]);
        return { status: 201, body: this.view(record) };
      }),
    );
  }

  /** A transfer this region recorded (its source warehouse is this region's). */
  async get(id: string): Promise<TransferView> {
    // The id does not name the SKU, so look in each of the region's databases (two by default).
    const found = await Promise.all(this.databases.all().map((db) => this.databases.read(db, (tx) => this.repository.find(tx, id))));
    const record = found.find((r) => r !== undefined);
    if (!record) throw new TransferException(TransferErrorCode.NotFound, `no transfer ${id}`, { transferId: id });
    return this.view(record);
  }

  /**
   * At the destination's owner, inside the replicator's transaction: adds the units once per
   * transfer id, and answers with `received` (or `refused` when the row cannot hold them).
   */
  async receive(tx: SqlTx, transfer: TransferData, correlationId: string | null): Promise<void> {
    const receivedAt = await this.repository.claimReceipt(tx, transfer);
    if (!receivedAt) return; // settled here before: the event was delivered again
    // The source named this region from its catalog; a warehouse this region does not own (two
    // regions registered the id) gets no units here: they go back.
    const owned = (await this.directory.ownerOfWarehouse(transfer.toWarehouseId)) === this.config.region.id;
    const row =
      owned &&
      (await this.stock.putIn(
        tx,
        {
          warehouseId: transfer.toWarehouseId,
          sku: transfer.sku,
          shard: transfer.shard,
          actor: `transfer:${transfer.transferId}`,
          requestId: correlationId,
          idempotencyKey: null,
        },
        transfer.quantity,
        'transfer-in',
      ));
    if (!row) {
      // The units cannot be stored here, and must not vanish: they go back to the source.
      this.logger.warn({
        msg: owned
          ? 'transfer refused: the destination row would exceed the largest quantity'
          : 'transfer refused: the destination warehouse is not this region’s',
        ...transfer,
      });
      await this.repository.refuseReceipt(tx, transfer.transferId);
    }
    await this.outbox.append(tx, [transferReceivedEntry(transfer, row ? 'received' : 'refused', receivedAt, correlationId)]);
  }

  /**
   * At the source's owner, inside the replicator's transaction: `completed` when the destination
   * received the units; when it refused them, they go back into the source row (`returned`).
   * Only a pending transfer changes, so a repeated event changes nothing.
   */
  async settle(tx: SqlTx, received: TransferReceivedData): Promise<void> {
    const transfer = await this.repository.lockPending(tx, received.transferId);
    if (!transfer) {
      if (!(await this.repository.find(tx, received.transferId))) {
        this.logger.warn({ msg: 'a received transfer is not recorded here; ignoring it', transferId: received.transferId });
      }
      return;
    }
    if (transfer.quantity !== received.quantity || transfer.toWarehouseId !== received.toWarehouseId || transfer.sku !== received.sku) {
      throw new PoisonEventError(`transfer ${transfer.id} was received with other warehouses, SKU or quantity than it was dispatched with`);
    }
    if (received.outcome === 'received') {
      await this.repository.settle(tx, transfer.id, 'completed');
      return;
    }
    const back = await this.stock.putIn(
      tx,
      {
        warehouseId: transfer.fromWarehouseId,
        sku: transfer.sku,
        shard: transfer.shard,
        actor: `transfer:${transfer.id}`,
        requestId: null,
        idempotencyKey: null,
      },
      transfer.quantity,
      'transfer-return',
    );
    if (!back) {
      // Neither row can hold the units: they stay in transit (pending, still counted) for a person to place.
      this.logger.error({ msg: 'a refused transfer cannot go back: the source row would exceed the largest quantity', ...received });
      return;
    }
    await this.repository.settle(tx, transfer.id, 'returned');
  }

  private async destinationRegion(warehouseId: string): Promise<string> {
    const owner = await this.directory.ownerOfWarehouse(warehouseId);
    if (owner === undefined) {
      throw new TransferException(TransferErrorCode.WarehouseNotFound, `warehouse ${warehouseId} is not registered`, { warehouseId });
    }
    if (!this.config.cluster.regions.some((r) => r.id === owner)) {
      // Its events would never be applied: the units would stay in transit for good.
      throw new TransferException(
        TransferErrorCode.RegionUnavailable,
        `warehouse ${warehouseId} belongs to region ${owner}, which is not in this cluster`,
        { region: owner },
      );
    }
    return owner;
  }

  /**
   * The key is claimed in the database of the SKU's shard, with the transfer. A key already used
   * in another database of the region was used for another SKU: refuse it as reused. (Two such
   * requests at the same moment are not caught; each database guards its own keys.)
   */
  private async refuseKeyUsedElsewhere(shard: number, idempotent: IdempotentRequest): Promise<void> {
    const own = this.databases.databaseFor(shard);
    for (const db of this.databases.all().filter((d) => d.name !== own.name)) {
      const fingerprint = await this.databases.read(db, (tx) => this.idempotency.fingerprintOf(tx, idempotent));
      if (fingerprint !== undefined && fingerprint !== idempotent.fingerprint) throw new IdempotencyException(idempotent.key);
    }
  }

  /**
   * A destination in another region that, as last replicated here, cannot take the units is
   * refused now. It may still fill up before the transfer arrives: then it refuses the units
   * and they come back (see `receive`).
   */
  private async refuseIfDestinationFull(tx: SqlTx, request: NewTransfer): Promise<void> {
    const known = await this.stock.replicaOnHand(tx, { warehouseId: request.toWarehouseId, sku: request.sku });
    if (known + request.quantity > MAX_QUANTITY) throw this.tooMuch(request, known);
  }

  private tooMuch(request: NewTransfer, known?: number): TransferException {
    return new TransferException(
      TransferErrorCode.QuantityLimit,
      `${request.toWarehouseId} cannot hold ${request.quantity} more of ${request.sku}: at most ${MAX_QUANTITY} per row`,
      {
        warehouseId: request.toWarehouseId,
        sku: request.sku,
        maxQuantity: MAX_QUANTITY,
        ...(known === undefined ? {} : { onHand: known }),
      },
    );
  }

  private view(t: TransferRecord): TransferView {
    return {
      id: t.id,
      sku: t.sku,
      fromWarehouseId: t.fromWarehouseId,
      fromRegion: t.fromRegion,
      toWarehouseId: t.toWarehouseId,
      toRegion: t.toRegion,
      quantity: t.quantity,
      status: t.status,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    };
  }
}
