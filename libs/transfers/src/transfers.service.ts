import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { MAX_QUANTITY, PoisonEventError, sourceRegionOf, type TransferData, type TransferReceivedData } from '@stockmesh/contracts';
import { OwnerDirectory, ValidationProblem, type RequestOrigin } from '@stockmesh/http';
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
import { TransferDestinationClient } from './reconcile-transfers/transfer-destination.client.js';
import { transferData, transferDispatchedEntry, transferReceivedEntry } from './transfer-events.js';
import { TransferErrorCode, TransferException } from './transfer.exception.js';
import { decodeTransferCursor, encodeTransferCursor } from './list-transfers/transfer-cursor.js';
import type { TransfersPageView } from './list-transfers/transfers-page.views.js';
import { TransferRepository, type ReceiptOutcome, type TransferRecord, type TransferStatus } from './transfer.repository.js';
import type { TransferView } from './transfer.views.js';

/** Transfers the reconciler claims per database and pass. */
const RECONCILE_BATCH = 100;
/**
 * Backoff of a transfer the reconciler claimed: doubled per attempt from 5 s, at most 10 min. The
 * first step also leases the transfer to the claiming instance while it asks the destination
 * (each ask takes at most 2 s).
 */
const RECONCILE_BACKOFF_MS = 5_000;
const RECONCILE_MAX_BACKOFF_MS = 600_000;
/**
 * Attempts after which units that can go back neither to the destination nor into the full source
 * row are written off (the transfer `failed`): with the backoff above, about two hours.
 */
export const MAX_RETURN_ATTEMPTS = 20;

/** Descending order of two keys: negative when `a` comes first. */
function compareDesc<T extends bigint | string>(a: T, b: T): number {
  return a > b ? -1 : a < b ? 1 : 0;
}

/** Who ends a transfer, for the ledger entry of units coming back. */
interface Ender {
  readonly actor: string;
  readonly requestId: string | null;
  readonly idempotencyKey: string | null;
  /** Why the transfer ends `cancelled` if the destination never received it. */
  readonly cancelReason: string;
}

/** What one reconciler pass did. */
export interface ReconcileReport {
  /** Pending transfers that were due and looked at. */
  readonly due: number;
  /** Those that reached an end state. */
  readonly ended: number;
  /** Those whose destination did not answer (asked again after their backoff). */
  readonly unanswered: number;
}

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
    private readonly destinations: TransferDestinationClient,
    private readonly clock: Clock,
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
          // In transit until the destination answers; past this, the reconciler asks it.
          nextCheckAt: sameRegion ? null : new Date(this.clock.now() + this.config.transfers.timeoutMs),
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
    return this.view(await this.locate(id));
  }

  /**
   * A page of the transfers recorded here, newest first. They are spread over every database (by
   * their SKU's shard), so each database is asked for its next `limit + 1` and the answers merged;
   * the cursor is the last transfer returned, so a page never repeats or skips one.
   */
  async page(status: TransferStatus | null, limit: number, cursor: string | undefined): Promise<TransfersPageView> {
    const before = cursor === undefined ? null : decodeTransferCursor(cursor);
    if (before === undefined) {
      throw new ValidationProblem([{ field: 'cursor', constraint: 'cursor', message: 'cursor must be a nextCursor returned by this API' }]);
    }
    const pages = await Promise.all(
      this.databases
        .all()
        .map(async (db) =>
          (await this.databases.read(db, (tx) => this.repository.pageNewest(tx, status, before, limit + 1))).filter((t) =>
            this.databases.hosts(db, t.shard),
          ),
        ),
    );
    // Newest first, then id in byte order descending, as the queries sort (ids are ASCII).
    const merged = pages
      .flat()
      .sort((a, b) => compareDesc(BigInt(a.position.createdAtMicros), BigInt(b.position.createdAtMicros)) || compareDesc(a.id, b.id));
    const items = merged.slice(0, limit);
    const nextCursor = merged.length > limit ? encodeTransferCursor(items[items.length - 1].position) : null;
    const query = `limit=${limit}${status === null ? '' : `&status=${status}`}`;
    return {
      servedBy: this.config.region.id,
      items: items.map((t) => this.view(t)),
      nextCursor,
      next: nextCursor === null ? null : `/v1/transfers?${query}&cursor=${nextCursor}`,
    };
  }

  /**
   * Cancels a transfer the destination has not received, at the source's owner. The destination
   * decides: it claims the transfer id with a tombstone unless its receipt was there first
   * (`TransferRepository.claimTombstone`), so of a cancel and a receipt exactly one wins. Then,
   * in one transaction here, a still-pending transfer ends as the destination said: `cancelled`
   * with its units back in the source row, or `completed` (409: too late), or `returned` (the
   * destination had refused the units; 409). No transaction is open during the remote call.
   * Cancelling a cancelled transfer answers it again; with an Idempotency-Key the first answer
   * is stored and replayed.
   */
  async cancel(id: string, origin: RequestOrigin, idempotent: IdempotentRequest | undefined): Promise<IdempotentAnswer<TransferView>> {
    const transfer = await this.locate(id);
    if (transfer.status === 'pending') {
      const outcome = transfer.resolution ?? (await this.askToCancel(transfer));
      await this.databases.inShard(transfer.shard, (tx) =>
        this.conclude(tx, transfer.id, outcome, {
          actor: origin.actor,
          requestId: origin.requestId,
          idempotencyKey: idempotent?.key ?? null,
          cancelReason: 'cancelled on request',
        }),
      );
    }
    return this.databases.inShard(transfer.shard, (tx) =>
      this.idempotency.once(tx, idempotent, async () => {
        const now = await this.repository.find(tx, id);
        if (!now) throw new Error(`transfer ${id} vanished`);
        if (now.status === 'cancelled') return { status: 200, body: this.view(now) };
        // Cancelled at the destination, but the source row cannot take the units back yet: the reconciler retries.
        if (now.status === 'pending') return { status: 202, body: this.view(now) };
        throw new TransferException(TransferErrorCode.Conflict, `transfer ${id} is ${now.status}: it can no longer be cancelled`, {
          transferId: id,
          transferStatus: now.status,
        });
      }),
    );
  }

  /**
   * At the destination's owner, for a source ending a transfer (internal API): claims the
   * transfer id with a `cancelled` tombstone if it was not received, and says what holds.
   */
  async resolveAsDestination(transfer: TransferData): Promise<{ outcome: ReceiptOutcome }> {
    const region = this.config.region.id;
    const consistent =
      transfer.toRegion === region &&
      transfer.fromRegion !== region &&
      sourceRegionOf(transfer.transferId) === transfer.fromRegion &&
      transfer.shard === shardOf(transfer.sku, this.config.cluster.shardCount);
    if (!consistent) {
      throw new TransferException(TransferErrorCode.Conflict, `transfer ${transfer.transferId} is not one this region receives`, {
        transferId: transfer.transferId,
      });
    }
    const receipt = await this.databases
      .inShard(transfer.shard, (tx) => this.repository.claimTombstone(tx, transfer))
      .catch((error: unknown) => {
        const code =
          (error as { driverError?: { code?: unknown }; code?: unknown }).driverError?.code ?? (error as { code?: unknown }).code;
        if (code !== '55P03') throw error;
        throw new TransferException(TransferErrorCode.Busy, `transfer ${transfer.transferId} is being received right now; ask again`, {
          transferId: transfer.transferId,
        });
      });
    if (receipt.sku !== transfer.sku || receipt.toWarehouseId !== transfer.toWarehouseId || receipt.quantity !== transfer.quantity) {
      throw new TransferException(TransferErrorCode.Conflict, `transfer ${transfer.transferId} was received with other rows or quantity`, {
        transferId: transfer.transferId,
      });
    }
    if (receipt.outcome === 'cancelled') this.logger.log({ msg: 'transfer cancelled before it was received', ...transfer });
    return { outcome: receipt.outcome };
  }

  /**
   * One pass of the reconciler over the transfers pending past their timeout (or their backoff)
   * at `now`, in every database of the region: each is claimed (and pushed back by its backoff)
   * in a short transaction, its destination is asked outside any transaction, and it ends as the
   * destination says, in another short transaction (see `cancel`). A destination that does not
   * answer is not asked again in this pass. Units that cannot go back into a full source row are
   * retried, and written off (`failed`) after MAX_RETURN_ATTEMPTS.
   */
  async reconcile(now: Date): Promise<ReconcileReport> {
    let due = 0;
    let ended = 0;
    let unanswered = 0;
    for (const db of this.databases.all()) {
      const claimed = await this.databases.inDatabase(db, (tx) =>
        this.repository.claimDue(tx, now, RECONCILE_BATCH, RECONCILE_BACKOFF_MS, RECONCILE_MAX_BACKOFF_MS),
      );
      due += claimed.length;
      const silent = new Map<string, string>();
      for (const transfer of claimed) {
        let outcome: ReceiptOutcome | undefined = transfer.resolution ?? undefined;
        if (!outcome && !silent.has(transfer.toRegion)) {
          const answer = await this.destinations.resolve(transfer);
          if (answer.kind === 'answered') outcome = answer.outcome;
          else silent.set(transfer.toRegion, answer.reason);
        }
        if (!outcome) {
          unanswered++;
          this.logger.warn({
            msg: 'transfer overdue; its destination did not answer',
            transferId: transfer.id,
            reason: silent.get(transfer.toRegion),
          });
          continue;
        }
        const after = await this.databases.inShard(transfer.shard, (tx) =>
          this.conclude(tx, transfer.id, outcome, {
            actor: `transfer:${transfer.id}`,
            requestId: null,
            idempotencyKey: null,
            cancelReason: `not received within ${this.config.transfers.timeoutMs} ms`,
          }),
        );
        if (after?.status === 'pending' && transfer.checkAttempts + 1 >= MAX_RETURN_ATTEMPTS) await this.writeOff(transfer);
        if (after?.status !== 'pending') ended++;
      }
    }
    return { due, ended, unanswered };
  }

  /**
   * At the destination's owner, inside the replicator's transaction: adds the units once per
   * transfer id, and answers with `received` (or `refused` when the row cannot hold them).
   */
  async receive(tx: SqlTx, transfer: TransferData, correlationId: string | null): Promise<void> {
    const receivedAt = await this.repository.claimReceipt(tx, transfer);
    // Settled here before (the event was delivered again), or cancelled before it arrived: nothing to add.
    if (!receivedAt) return;
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
    await this.conclude(tx, transfer.id, received.outcome, {
      actor: `transfer:${transfer.id}`,
      requestId: null,
      idempotencyKey: null,
      cancelReason: '',
    });
  }

  /**
   * Ends a pending transfer as its destination decided, in the caller's transaction on the SKU's
   * database: `received` completes it; `refused` and `cancelled` put the units back into the
   * source row (`transfer-return`) and end it `returned` or `cancelled`. When the source row
   * cannot take them (it would exceed MAX_QUANTITY), the decision is kept and the transfer stays
   * pending, its units still counted in transit, for the reconciler to retry. Resolves the
   * transfer as it is afterwards (unchanged when it was no longer pending).
   */
  private async conclude(tx: SqlTx, id: string, outcome: ReceiptOutcome, by: Ender): Promise<TransferRecord | undefined> {
    const transfer = await this.repository.lockPending(tx, id);
    if (!transfer) return this.repository.find(tx, id);
    if (outcome === 'received') return this.repository.settle(tx, id, 'completed');
    const back = await this.stock.putIn(
      tx,
      {
        warehouseId: transfer.fromWarehouseId,
        sku: transfer.sku,
        shard: transfer.shard,
        actor: by.actor,
        requestId: by.requestId,
        idempotencyKey: by.idempotencyKey,
        reason: outcome === 'cancelled' ? 'transfer-cancelled' : 'transfer',
      },
      transfer.quantity,
      'transfer-return',
    );
    if (back)
      return outcome === 'cancelled'
        ? this.repository.settle(tx, id, 'cancelled', by.cancelReason)
        : this.repository.settle(tx, id, 'returned');
    this.logger.error({
      msg: 'a transfer’s units cannot go back: the source row would exceed the largest quantity; retrying',
      transferId: id,
      outcome,
      attempts: transfer.checkAttempts,
    });
    await this.repository.keepResolution(tx, id, outcome);
    return { ...transfer, resolution: outcome };
  }

  /**
   * Units that neither the destination nor the source row could hold through every retry: the
   * transfer ends `failed` and its units leave the stock (written off). The `transfers` row,
   * with its quantity and reason, is the record of that loss.
   */
  private async writeOff(transfer: TransferRecord): Promise<void> {
    const reason = `written off: the source row could not take the units back in ${MAX_RETURN_ATTEMPTS} attempts`;
    const failed = await this.databases.inShard(transfer.shard, async (tx) =>
      (await this.repository.lockPending(tx, transfer.id)) ? this.repository.settle(tx, transfer.id, 'failed', reason) : undefined,
    );
    if (failed) this.logger.error({ msg: 'transfer failed; its units are written off', ...transferData(failed), reason });
  }

  /** The destination's decision on cancelling `transfer`; 409 if the source row could not take the units, 503 without an answer. */
  private async askToCancel(transfer: TransferRecord): Promise<ReceiptOutcome> {
    const source = { warehouseId: transfer.fromWarehouseId, sku: transfer.sku };
    const room = await this.databases.read(this.databases.databaseFor(transfer.shard), (tx) =>
      this.stock.hasRoomFor(tx, source, transfer.quantity),
    );
    if (!room) {
      throw new TransferException(
        TransferErrorCode.QuantityLimit,
        `${transfer.fromWarehouseId} cannot take the ${transfer.quantity} units of ${transfer.sku} back: at most ${MAX_QUANTITY} per row`,
        { ...source, maxQuantity: MAX_QUANTITY },
      );
    }
    const answer = await this.destinations.resolve(transfer);
    if (answer.kind === 'unavailable') {
      throw new TransferException(TransferErrorCode.RegionUnavailable, answer.reason, { region: transfer.toRegion });
    }
    return answer.outcome;
  }

  /** The transfer this region recorded under `id`, from whichever of its databases holds it; 404 otherwise. */
  private async locate(id: string): Promise<TransferRecord> {
    // The id does not name the SKU, so look in each of the region's databases (two by default).
    const dbs = this.databases.all();
    const found = await Promise.all(dbs.map((db) => this.databases.read(db, (tx) => this.repository.find(tx, id))));
    const record = found.find((r, i) => r !== undefined && this.databases.hosts(dbs[i]!, r.shard));
    if (!record) throw new TransferException(TransferErrorCode.NotFound, `no transfer ${id}`, { transferId: id });
    return record;
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
      ...(t.statusReason === null ? {} : { statusReason: t.statusReason }),
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    };
  }
}
