import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { Metrics } from '@stockmesh/metrics';
import { ShardDatabases, type SqlTx } from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { shardOf, type ShardDatabase } from '@stockmesh/sharding';
import { stockChangedEntry } from '../stock-events.js';
import { StockErrorCode, StockException } from '../stock.exception.js';
import { StockRepository, type MovementKind, type StockKey, type StockRecord } from '../stock.repository.js';
import { HoldErrorCode, HoldException } from './hold.exception.js';
import { HoldRepository, type HoldRecord } from './hold.repository.js';

/** A hold to place: units of one row, named by the coordinating region. */
export interface HoldRequest extends StockKey {
  /** `<reservationId>/<allocationNo>`: the same id always means the same hold. */
  readonly holdId: string;
  readonly reservationId: string;
  readonly quantity: number;
  /**
   * How long the owner keeps the hold, from when it is placed, without hearing from the
   * coordinator (who renews it while the reservation lives). The owner releases it on its own
   * once this and the grace period (STOCKMESH_HOLD_GRACE_SECONDS) have passed. A duration, not an
   * instant: the regions' clocks are never compared.
   */
  readonly ttlSeconds: number;
}

export interface HoldView extends StockKey {
  readonly holdId: string;
  readonly reservationId: string;
  readonly quantity: number;
  readonly status: 'held' | 'committed' | 'released';
  /** Of a partially committed hold: the units that left on-hand (the rest were released). */
  readonly committedQuantity?: number;
  /** While held: until when the owner keeps the hold (its own clock), before the grace period. */
  readonly expiresAt?: string;
  /** The row after the step (absent when a repeated call changed nothing). */
  readonly stock?: { readonly onHand: number; readonly reserved: number; readonly available: number; readonly version: number };
}

/**
 * Holds at the owner of the stock. Each step is one transaction on the database hosting the
 * row's shard: the hold's state changes together with the row's `reserved` (and `onHand` on
 * commit), a ledger entry and the replicated event. Every step is idempotent by hold id, and
 * a hold cannot come back once released: that is what lets a coordinator compensate a step
 * whose answer it never received. No step waits longer than STOCKMESH_HOLD_LOCK_TIMEOUT_MS for a
 * lock: it then changes nothing and answers 503 `busy`, which the coordinator treats as no answer.
 * A hold nobody commits or releases is released by the owner past its expiry plus a grace period
 * (`releaseExpired`, run by HoldExpirySweeper).
 */
@Injectable()
export class HoldService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly stock: StockRepository,
    private readonly holds: HoldRepository,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  /** Holds the units if that many are available; 409 insufficient-stock otherwise (nothing held). */
  place(request: HoldRequest): Promise<HoldView> {
    const shard = shardOf(request.sku, this.config.cluster.shardCount);
    const expiresAt = new Date(this.clock.now() + request.ttlSeconds * 1000);
    return this.inShard(shard, async (tx) => {
      const inserted = await this.holds.insert(tx, {
        id: request.holdId,
        reservationId: request.reservationId,
        warehouseId: request.warehouseId,
        sku: request.sku,
        quantity: request.quantity,
        expiresAt,
      });
      if (!inserted) return this.repeated(tx, request.holdId, 'held');
      const row = await this.stock.reserveIfAvailable(tx, request, request.quantity);
      if (!row) {
        const current = await this.stock.find(tx, request);
        const available = current ? current.onHand - current.reserved : 0;
        throw new StockException(
          StockErrorCode.Insufficient,
          `only ${available} of ${request.sku} are available in ${request.warehouseId}`,
          {
            warehouseId: request.warehouseId,
            sku: request.sku,
            requested: request.quantity,
            available,
          },
        );
      }
      await this.record(tx, row, shard, 'hold', 0, `reservation:${request.reservationId}`);
      this.metrics.hold('placed');
      return this.view({ ...request, id: request.holdId, status: 'held', expiresAt }, row);
    });
  }

  /**
   * Keeps a held hold at least `ttlSeconds` from now (never shortens it). A committed hold answers
   * as it is (nothing can expire any more); a released one (e.g. expired here) is 409 hold-conflict.
   */
  renew(holdId: string, key: StockKey, ttlSeconds: number): Promise<HoldView> {
    const shard = shardOf(key.sku, this.config.cluster.shardCount);
    const expiresAt = new Date(this.clock.now() + ttlSeconds * 1000);
    return this.inShard(shard, async (tx) => {
      const hold = await this.holds.extend(tx, holdId, expiresAt);
      if (hold) return this.view(hold);
      const current = await this.holds.find(tx, holdId);
      return this.repeated(tx, holdId, current?.status === 'committed' ? 'committed' : 'held');
    });
  }

  /**
   * Releases up to `limit` holds of `db` still held more than the grace period past their expiry
   * at `now`, with the same effects as a release (row, ledger, event; the ledger's actor is
   * `hold-expiry:<reservationId>`). Returns them; fewer than `limit` means no more are due.
   */
  releaseExpired(db: ShardDatabase, now: number, limit: number): Promise<HoldRecord[]> {
    const cutoff = new Date(now - this.config.holds.expiryGraceMs);
    return this.inDatabase(db, async (tx) => {
      const expired = await this.holds.releaseExpired(tx, cutoff, limit);
      // Stock rows are locked in one order by every sweeper, so two of them cannot deadlock.
      const ordered = [...expired].sort((a, b) => a.warehouseId.localeCompare(b.warehouseId) || a.sku.localeCompare(b.sku));
      for (const hold of ordered) {
        await this.end(tx, hold, 'released', shardOf(hold.sku, this.config.cluster.shardCount), `hold-expiry:${hold.reservationId}`);
      }
      this.metrics.hold('expired', expired.length);
      return expired;
    });
  }

  /**
   * The held units leave on-hand and reserved: the order is placed. With `quantity` (a partial
   * commit, at most the hold's), only that many leave on-hand and the rest become available again,
   * in the same transaction. Committing a committed hold again answers it as it is.
   */
  commit(holdId: string, key: StockKey, quantity?: number): Promise<HoldView> {
    return this.finish(holdId, key, 'committed', quantity);
  }

  /** The held units become available again. Releasing a hold never seen leaves a tombstone. */
  release(holdId: string, key: StockKey & { readonly reservationId: string }): Promise<HoldView> {
    return this.finish(holdId, key, 'released');
  }

  /**
   * A page of the holds of `db` still held that were placed before `placedBefore`, after
   * `afterId` in id order: what the owner's audit asks each hold's coordinator about.
   */
  listHeld(db: ShardDatabase, placedBefore: Date, afterId: string, limit: number): Promise<HoldRecord[]> {
    return this.databases.read(db, (tx) => this.holds.listHeld(tx, placedBefore, afterId, limit));
  }

  /**
   * Releases a held hold its coordinator no longer knows as live (the owner's audit): the same
   * effects as a release, with `hold-audit:<reservationId>` as the ledger's actor. A hold that
   * is no longer held (committed or released meanwhile) is left as it is; returns whether it
   * was released by this call.
   */
  releaseOrphan(hold: Pick<HoldRecord, 'id' | 'sku'>): Promise<boolean> {
    const shard = shardOf(hold.sku, this.config.cluster.shardCount);
    return this.inShard(shard, async (tx) => {
      const held = await this.holds.transition(tx, hold.id, 'released');
      if (held) {
        await this.end(tx, held, 'released', shard, `hold-audit:${held.reservationId}`);
        this.metrics.hold('released');
      }
      return held !== undefined;
    });
  }

  private finish(
    holdId: string,
    key: StockKey & { readonly reservationId?: string },
    to: 'committed' | 'released',
    quantity?: number,
  ): Promise<HoldView> {
    const shard = shardOf(key.sku, this.config.cluster.shardCount);
    return this.inShard(shard, async (tx) => {
      let hold = await this.holds.transition(tx, holdId, to);
      if (!hold && to === 'released' && key.reservationId) {
        // A release must never answer "released" while the hold stays held. The UPDATE above
        // cannot see a hold whose place is still in flight (inserted, not yet committed, e.g.
        // waiting for the stock row), so a release that found nothing leaves a tombstone. That
        // INSERT waits for such a place; if it then conflicts, the place committed and its hold
        // is visible to our next statement (READ COMMITTED takes a new snapshot per statement),
        // so the release is applied to it. Either way the hold ends released.
        const tombstoned = await this.holds.tombstone(tx, {
          id: holdId,
          reservationId: key.reservationId,
          warehouseId: key.warehouseId,
          sku: key.sku,
        });
        if (tombstoned)
          return { holdId, reservationId: key.reservationId, warehouseId: key.warehouseId, sku: key.sku, quantity: 0, status: 'released' };
        hold = await this.holds.transition(tx, holdId, to);
      }
      if (!hold) return this.repeated(tx, holdId, to);
      if (quantity !== undefined && quantity > hold.quantity) {
        // Thrown inside the transaction: the hold stays held.
        throw new HoldException(HoldErrorCode.Conflict, `hold ${holdId} holds ${hold.quantity} units; it cannot commit ${quantity}`, {
          holdQuantity: hold.quantity,
        });
      }
      const partial = quantity !== undefined && quantity < hold.quantity ? quantity : undefined;
      const row = await this.end(tx, hold, to, shard, `reservation:${hold.reservationId}`, partial);
      if (partial !== undefined) await this.holds.recordPartialCommit(tx, holdId, partial);
      this.metrics.hold(to);
      return this.view({ ...hold, ...(partial === undefined ? {} : { committedQuantity: partial }) }, row);
    });
  }

  /**
   * The row's side of a hold that has just become committed or released: its units, the ledger
   * and the event. A partial commit takes `committed` units off on-hand and releases the rest:
   * two ledger entries (and events), one transaction.
   */
  private async end(
    tx: SqlTx,
    hold: HoldRecord,
    to: 'committed' | 'released',
    shard: number,
    actor: string,
    committed = hold.quantity,
  ): Promise<StockRecord> {
    if (to === 'released') {
      const row = await this.stock.unreserve(tx, hold, hold.quantity);
      await this.record(tx, row, shard, 'release', 0, actor);
      return row;
    }
    let row = await this.stock.consumeReserved(tx, hold, committed);
    await this.record(tx, row, shard, 'commit', -committed, actor);
    if (committed < hold.quantity) {
      row = await this.stock.unreserve(tx, hold, hold.quantity - committed);
      await this.record(tx, row, shard, 'release', 0, actor);
    }
    return row;
  }

  private inShard<T>(shard: number, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.inDatabase(this.databases.databaseFor(shard), work);
  }

  /** One hold transaction whose lock waits are bounded; a wait that runs out is a retriable `busy`. */
  private async inDatabase<T>(db: ShardDatabase, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    try {
      return await this.databases.inDatabase(db, async (tx) => {
        await this.holds.limitWaits(tx, this.config.holds.lockTimeoutMs);
        return work(tx);
      });
    } catch (error) {
      const code = (error as { driverError?: { code?: unknown } }).driverError?.code ?? (error as { code?: unknown }).code;
      // 55P03 lock_not_available (lock_timeout), 57014 query_canceled (statement_timeout).
      if (code === '55P03' || code === '57014')
        throw new HoldException(
          HoldErrorCode.Busy,
          `a lock the hold step needed stayed taken longer than ${this.config.holds.lockTimeoutMs} ms; nothing changed, ask again`,
        );
      throw error;
    }
  }

  /** A step asked again: the same answer if the hold is already where it was asked to go. */
  private async repeated(tx: SqlTx, holdId: string, wanted: HoldRecord['status']): Promise<HoldView> {
    const hold = await this.holds.find(tx, holdId);
    if (!hold) throw new HoldException(HoldErrorCode.NotFound, `no hold ${holdId}`);
    if (hold.status !== wanted) {
      throw new HoldException(HoldErrorCode.Conflict, `hold ${holdId} is ${hold.status}; it cannot become ${wanted}`, {
        holdStatus: hold.status,
      });
    }
    return this.view(hold);
  }

  private async record(tx: SqlTx, row: StockRecord, shard: number, kind: MovementKind, delta: number, actor: string): Promise<void> {
    const movement = await this.stock.appendMovement(tx, {
      warehouseId: row.warehouseId,
      sku: row.sku,
      shard,
      kind,
      delta,
      reason: 'reservation',
      after: row,
      actor,
      requestId: null,
      idempotencyKey: null,
    });
    await this.outbox.append(tx, [stockChangedEntry(row, shard, movement, null)]);
  }

  private view(hold: HoldRecord, row?: StockRecord): HoldView {
    return {
      holdId: hold.id,
      reservationId: hold.reservationId,
      warehouseId: hold.warehouseId,
      sku: hold.sku,
      quantity: hold.quantity,
      status: hold.status,
      ...(hold.committedQuantity === undefined ? {} : { committedQuantity: hold.committedQuantity }),
      ...(hold.status === 'held' && hold.expiresAt ? { expiresAt: hold.expiresAt.toISOString() } : {}),
      ...(row ? { stock: { onHand: row.onHand, reserved: row.reserved, available: row.onHand - row.reserved, version: row.version } } : {}),
    };
  }
}
