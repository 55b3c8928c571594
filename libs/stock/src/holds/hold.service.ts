import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { currentScopeRunner, currentTraceparent, outsideRequests } from '@stockmesh/http';
import { Metrics } from '@stockmesh/metrics';
import { isShardFenced, ShardDatabases, sqlStateOf, type SqlTx } from '@stockmesh/persistence';
import { shardOf, type ShardDatabase } from '@stockmesh/sharding';
import { StockChangeOutbox } from '../stock-change-outbox.js';
import { holdableUnits, storefrontAvailable, type StockLevel } from '../stock-level.js';
import { StockErrorCode, StockException } from '../stock.exception.js';
import { StockRepository, type MovementKind, type OwnStockRecord, type StockKey } from '../stock.repository.js';
import type { MovementView } from '../stock.views.js';
import { expectedUnits } from '../incoming-stock/incoming-receipts.js';
import { decideHolds, laneOf, rowKey, type HoldDecision, type HoldLevel } from './hold-batch.js';
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
  /**
   * The hold may take the row's safety stock. Set by the coordinator only for a reservation whose
   * key has `stock:reserve-safety`, and accepted by an owner only from a signed region call (the
   * internal listener) or from its own coordinator in process: never from a client.
   */
  readonly mayUseSafetyStock?: boolean;
  /**
   * What on hand does not cover may be promised out of the row's incoming receipts (a backorder).
   * Set by the coordinator for a reservation that asked `allowBackorder`.
   */
  readonly allowBackorder?: boolean;
}

export interface HoldView extends StockKey {
  readonly holdId: string;
  readonly reservationId: string;
  readonly quantity: number;
  readonly status: 'held' | 'committed' | 'released';
  /** Of a partially committed hold: the units that left on-hand (the rest were released). */
  readonly committedQuantity?: number;
  /** Units of the hold not on hand yet: promised out of incoming receipts, filled as they arrive. */
  readonly backordered: number;
  /** While held: until when the owner keeps the hold (its own clock), before the grace period. */
  readonly expiresAt?: string;
  /** The row after the step (absent when a repeated call changed nothing). */
  readonly stock?: {
    readonly onHand: number;
    readonly reserved: number;
    readonly safetyStock: number;
    /** What storefronts see available: onHand - reserved - safetyStock, never below 0. */
    readonly available: number;
    readonly backordered: number;
    readonly version: number;
  };
}

/** Most holds one group-committed transaction places. */
export const MAX_PLACE_BATCH = 256;
/** Most place lanes per database, each running one place transaction at a time: two measured best (BENCHMARKS.md, "Owner holds"); more lanes make smaller batches. */
export const MAX_PLACE_LANES = 2;

/** A hold waiting for its place transaction. */
interface QueuedPlace {
  readonly request: HoldRequest;
  readonly expiresAt: Date;
  /** Runs work in the scope of the request that asked for the hold (its log lines and trace). */
  readonly inItsRequest: <T>(work: () => T) => T;
  /** That request's `traceparent`, for the event of its row when the hold goes in a batch. */
  readonly traceparent: string | undefined;
  /** The shard map's version the lane was chosen by. */
  readonly mapVersion: number;
  resolve(view: HoldView): void;
  reject(error: unknown): void;
}

/** The holds of one lane waiting to be placed, and whether its place transaction runs. */
interface PlaceLane {
  readonly queue: QueuedPlace[];
  running: boolean;
}

/** One hold's answer from a batch: its view, or the error it is refused with. */
type PlaceOutcome = { readonly view: HoldView } | { readonly error: Error };

/**
 * Holds at the owner of the stock. Each step is one transaction on the database hosting the
 * row's shard: the hold's state changes together with the row's `reserved` (and `onHand` on
 * commit), a ledger entry and the replicated event. Every step is idempotent by hold id, and
 * a hold cannot come back once released: that is what lets a coordinator compensate a step
 * whose answer it never received. No step waits longer than STOCKMESH_HOLD_LOCK_TIMEOUT_MS for a
 * lock: it then changes nothing and answers 503 `busy`, which the coordinator treats as no answer.
 * A hold nobody commits or releases is released by the owner past its expiry plus a grace period
 * (`releaseExpired`, run by HoldExpirySweeper).
 *
 * Places are group-committed. The rows of a database are split into lanes (`laneOf`; one fewer
 * than the pool's connections, at most MAX_PLACE_LANES), and each lane runs one place transaction
 * at a time: holds that arrive while it runs wait and then go together, up to MAX_PLACE_BATCH in
 * one transaction (`placeBatch`), decided in arrival order exactly as if each ran alone
 * (decideHolds). Two lanes never touch one row, so their transactions never wait for each other's
 * row locks, and every hold of a hot row is in one lane, where they share commits. A hold alone
 * takes the one-hold transaction (`placeOne`). Each hold is
 * answered after the commit that holds it; a batch whose transaction fails is tried again hold by
 * hold, so one hold's trouble never becomes the others' answer. Under load this turns one WAL
 * flush and six round trips per hold into about as many per batch.
 */
@Injectable()
export class HoldService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly stock: StockRepository,
    private readonly holds: HoldRepository,
    private readonly events: StockChangeOutbox,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    this.laneCount = Math.min(MAX_PLACE_LANES, Math.max(1, config.db.poolSize - 1));
  }

  private readonly lanes = new Map<string, PlaceLane>();
  /** Place lanes per database: one fewer than the pool's connections, at most MAX_PLACE_LANES. */
  private readonly laneCount: number;

  /**
   * Holds the units if that many are available (leaving the safety stock untouched, unless
   * `mayUseSafetyStock`); 409 insufficient-stock otherwise (nothing held).
   */
  place(request: HoldRequest): Promise<HoldView> {
    const db = this.databases.databaseFor(shardOf(request.sku, this.config.cluster.shardCount));
    const mapVersion = this.databases.mapVersion;
    const expiresAt = new Date(this.clock.now() + request.ttlSeconds * 1000);
    const name = `${db.name}/${laneOf(request, this.laneCount)}`;
    let lane = this.lanes.get(name);
    if (!lane) this.lanes.set(name, (lane = { queue: [], running: false }));
    const queued = lane;
    return new Promise<HoldView>((resolve, reject) => {
      queued.queue.push({
        request,
        expiresAt,
        resolve,
        reject,
        inItsRequest: currentScopeRunner(),
        traceparent: currentTraceparent(),
        mapVersion,
      });
      this.drain(db, queued);
    });
  }

  /** Starts the lane's next place transaction, unless one runs or no hold waits. */
  private drain(db: ShardDatabase, lane: PlaceLane): void {
    if (lane.running || lane.queue.length === 0) return;
    const batch = takeBatch(lane.queue);
    lane.running = true;
    void this.runPlaces(db, batch).finally(() => {
      lane.running = false;
      this.drain(db, lane);
    });
  }

  private async runPlaces(db: ShardDatabase, batch: readonly QueuedPlace[]): Promise<void> {
    // The lane was chosen when the holds were queued: a shard move may have switched a shard to
    // another database since, and its old rows may be gone (a hold there would find no row). Then
    // each hold goes alone, where its shard is now.
    const moved = batch.some((q) => q.mapVersion !== this.databases.mapVersion);
    if (batch.length > 1 && !moved) {
      let outcomes: PlaceOutcome[] | undefined;
      try {
        // The batch serves several requests: its lines and events name none of them (each row's
        // event carries the trace of its last hold, see placeBatch).
        outcomes = await outsideRequests(() => this.inDatabase(db, (tx) => this.placeBatch(tx, batch)));
      } catch {
        // Nothing of the batch was committed (a lock wait ran out, a constraint, the database):
        // each hold is tried again alone below, and answered by that.
      }
      if (outcomes) {
        // Placed now: a repeated place answers the existing hold, without the row (`stock`).
        this.metrics.hold('placed', outcomes.filter((o) => 'view' in o && o.view.stock !== undefined).length);
        outcomes.forEach((outcome, i) => ('view' in outcome ? batch[i]!.resolve(outcome.view) : batch[i]!.reject(outcome.error)));
        return;
      }
    }
    await Promise.all(
      batch.map(async (queued) => {
        try {
          queued.resolve(await queued.inItsRequest(() => this.placeOne(queued)));
        } catch (error) {
          queued.reject(error);
        }
      }),
    );
  }

  /** One hold in its own transaction. */
  private async placeOne(queued: QueuedPlace): Promise<HoldView> {
    const { request, expiresAt } = queued;
    const shard = shardOf(request.sku, this.config.cluster.shardCount);
    // By shard, not by the lane's database: after a batch a shard move refused, the hold goes
    // where the shard is now.
    const view = await this.inShard(shard, async (tx) => {
      if (request.allowBackorder === true) {
        if (!(await this.holds.insert(tx, holdRowOf(queued)))) return this.repeated(tx, request.holdId, 'held');
        return this.placeBackorder(tx, request, expiresAt, shard);
      }
      const mayUseSafetyStock = request.mayUseSafetyStock === true;
      // The hold's row and its units in one statement; without the units, the throw below rolls the hold back.
      const { inserted, row } = await this.stock.insertHoldAndReserve(tx, holdRowOf(queued), mayUseSafetyStock);
      if (!inserted) return this.repeated(tx, request.holdId, 'held');
      if (!row) {
        const current = await this.stock.find(tx, request);
        throw insufficient(request, current ? holdableUnits(current, mayUseSafetyStock) : 0);
      }
      await this.record(tx, row, shard, 'hold', 0, `reservation:${request.reservationId}`);
      return this.view({ ...request, id: request.holdId, status: 'held', expiresAt, backordered: 0 }, row);
    });
    if (view.stock) this.metrics.hold('placed');
    return view;
  }

  /**
   * One hold that may be a backorder, in the transaction that inserted it: the row is locked and
   * the hold decided as in a batch (on hand first, the rest out of what the receipts still expect
   * and nobody was promised), then the row and the hold's backordered units are written.
   */
  private async placeBackorder(tx: SqlTx, request: HoldRequest, expiresAt: Date, shard: number): Promise<HoldView> {
    const locked = await this.stock.lock(tx, request);
    const rows = new Map<string, HoldLevel>(locked && locked.version > 0 ? [[rowKey(request), withExpected(locked)]] : []);
    const [decision] = decideHolds(rows, [request]).decisions;
    if (!decision!.granted) throw insufficient(request, decision!.available);
    const { after, backordered } = decision!;
    const [row] = await this.stock.setReserved(tx, [
      {
        warehouseId: request.warehouseId,
        sku: request.sku,
        reserved: after.reserved,
        backordered: after.backordered,
        version: after.version,
      },
    ]);
    if (backordered > 0) await this.holds.setBackordered(tx, [{ id: request.holdId, backordered }]);
    await this.record(tx, row!, shard, 'hold', 0, `reservation:${request.reservationId}`);
    return this.view({ ...request, id: request.holdId, status: 'held', expiresAt, backordered }, row);
  }

  /**
   * Many holds of one database in one transaction: insert them (a hold whose id exists answers as
   * a repeated place), lock their rows in one order, decide them in arrival order, delete the
   * refused ones, and write every row once, a ledger entry per granted hold and one event per row
   * with its final state (replicas keep the highest version; the ledger keeps every hold).
   */
  private async placeBatch(tx: SqlTx, batch: readonly QueuedPlace[]): Promise<PlaceOutcome[]> {
    const inserted = await this.holds.insertMany(tx, batch.map(holdRowOf));
    const fresh = batch.filter((q) => inserted.has(q.request.holdId)).map((q) => q.request);
    const repeatedIds = batch.filter((q) => !inserted.has(q.request.holdId)).map((q) => q.request.holdId);
    const existing = repeatedIds.length > 0 ? await this.holds.findMany(tx, repeatedIds) : new Map<string, HoldRecord>();

    const keys = new Map(fresh.map((r) => [rowKey(r), { warehouseId: r.warehouseId, sku: r.sku }]));
    const locked = keys.size > 0 ? await this.stock.lockMany(tx, [...keys.values()]) : [];
    const { decisions, finalRows } = decideHolds(new Map(locked.map((row) => [rowKey(row), withExpected(row)])), fresh);
    const decided = new Map<string, HoldDecision>(fresh.map((r, i) => [r.holdId, decisions[i]!]));

    const refused = fresh.filter((r) => !decided.get(r.holdId)!.granted).map((r) => r.holdId);
    if (refused.length > 0) await this.holds.deleteMany(tx, refused);
    if (finalRows.size > 0) {
      const granted = fresh.filter((r) => decided.get(r.holdId)!.granted);
      const rows = await this.stock.setReserved(
        tx,
        [...finalRows].map(([key, level]) => ({
          ...keys.get(key)!,
          reserved: level.reserved,
          backordered: level.backordered,
          version: level.version,
        })),
      );
      await this.holds.setBackordered(
        tx,
        granted.flatMap((r) => {
          const decision = decided.get(r.holdId) as Extract<HoldDecision, { granted: true }>;
          return decision.backordered > 0 ? [{ id: r.holdId, backordered: decision.backordered }] : [];
        }),
      );
      const movements = await this.stock.appendMovements(
        tx,
        granted.map((r) => ({
          warehouseId: r.warehouseId,
          sku: r.sku,
          shard: shardOf(r.sku, this.config.cluster.shardCount),
          kind: 'hold' as const,
          delta: 0,
          reason: 'reservation',
          after: (decided.get(r.holdId) as Extract<HoldDecision, { granted: true }>).after,
          actor: `reservation:${r.reservationId}`,
          requestId: null,
          idempotencyKey: null,
        })),
      );
      // The event of a row carries the cause of its last hold in the batch, and that hold's trace.
      const last = new Map<string, MovementView>();
      for (const m of movements) if ((last.get(rowKey(m))?.version ?? -1) < m.version) last.set(rowKey(m), m);
      const lastTrace = new Map<string, string | undefined>();
      for (const q of batch) if (decided.get(q.request.holdId)?.granted) lastTrace.set(rowKey(q.request), q.traceparent);
      // One event per row, from the row after the whole batch: a batch crossing a row's
      // low-stock threshold announces it once (StockChangeOutbox).
      await this.events.append(
        tx,
        rows.map((row) => ({
          record: row,
          shard: shardOf(row.sku, this.config.cluster.shardCount),
          movement: last.get(rowKey(row))!,
          requestId: null,
          traceparent: lastTrace.get(rowKey(row)),
        })),
      );
    }

    return batch.map(({ request, expiresAt }): PlaceOutcome => {
      const decision = decided.get(request.holdId);
      if (!decision) return this.repeatedOutcome(request.holdId, existing.get(request.holdId));
      if (!decision.granted) return { error: insufficient(request, decision.available) };
      const hold = { ...request, id: request.holdId, status: 'held' as const, expiresAt, backordered: decision.backordered };
      return { view: { ...this.view(hold), stock: stockOf(decision.after) } };
    });
  }

  /** The answer to a place whose hold id exists: the hold as it is if it is held, 409 otherwise. */
  private repeatedOutcome(holdId: string, hold: HoldRecord | undefined): PlaceOutcome {
    if (!hold) return { error: new HoldException(HoldErrorCode.NotFound, `no hold ${holdId}`) };
    if (hold.status !== 'held') {
      return {
        error: new HoldException(HoldErrorCode.Conflict, `hold ${holdId} is ${hold.status}; it cannot become held`, {
          holdStatus: hold.status,
        }),
      };
    }
    return { view: this.view(hold) };
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
          return {
            holdId,
            reservationId: key.reservationId,
            warehouseId: key.warehouseId,
            sku: key.sku,
            quantity: 0,
            status: 'released',
            backordered: 0,
          };
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
      const { row, backordered } = await this.end(tx, hold, to, shard, `reservation:${hold.reservationId}`, partial);
      if (partial !== undefined) await this.holds.recordPartialCommit(tx, holdId, partial);
      this.metrics.hold(to);
      return this.view({ ...hold, backordered, ...(partial === undefined ? {} : { committedQuantity: partial }) }, row);
    });
  }

  /**
   * The row's side of a hold that has just become committed or released: its units, the ledger
   * and the event. A partial commit takes `committed` units and releases the rest: two ledger
   * entries (and events), one transaction. A hold's backordered units (promised out of incoming
   * stock, not on hand) are released with it, or, committed, stay promised until units received
   * fill them (BackorderFill); what it commits is taken from its units on hand first. Returns the
   * row and the hold's backordered units after (0 once released; of a commit, what it sold out of
   * incoming stock).
   */
  private async end(
    tx: SqlTx,
    hold: HoldRecord,
    to: 'committed' | 'released',
    shard: number,
    actor: string,
    committed = hold.quantity,
  ): Promise<{ readonly row: OwnStockRecord; readonly backordered: number }> {
    const onHandUnits = hold.quantity - hold.backordered;
    if (to === 'released') {
      const row = await this.stock.unreserve(tx, hold, onHandUnits, hold.backordered);
      if (hold.backordered > 0) await this.holds.setBackordered(tx, [{ id: hold.id, backordered: 0 }]);
      await this.record(tx, row, shard, 'release', 0, actor);
      return { row, backordered: 0 };
    }
    const fromHand = Math.min(committed, onHandUnits);
    const fromIncoming = committed - fromHand;
    let row = await this.stock.consumeReserved(tx, hold, fromHand);
    await this.record(tx, row, shard, 'commit', -fromHand, actor);
    const [handRest, incomingRest] = [onHandUnits - fromHand, hold.backordered - fromIncoming];
    if (handRest > 0 || incomingRest > 0) {
      row = await this.stock.unreserve(tx, hold, handRest, incomingRest);
      await this.record(tx, row, shard, 'release', 0, actor);
    }
    if (incomingRest > 0) await this.holds.setBackordered(tx, [{ id: hold.id, backordered: fromIncoming }]);
    return { row, backordered: fromIncoming };
  }

  /**
   * One hold transaction on the database hosting `shard`, whose lock waits are bounded, run again
   * where the shard is now when a shard move refused it; a wait that runs out (or a move's pause
   * that outlasts the retries) is a retriable `busy`.
   */
  private inShard<T>(shard: number, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.busyWhenBounded(this.databases.inShard(shard, work, { lockTimeoutMs: this.config.holds.lockTimeoutMs }));
  }

  /** One hold transaction on `db` (a batch of its lane), bounded as in `inShard`; not retried elsewhere. */
  private inDatabase<T>(db: ShardDatabase, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.busyWhenBounded(this.databases.inDatabase(db, work, { lockTimeoutMs: this.config.holds.lockTimeoutMs }));
  }

  private async busyWhenBounded<T>(transaction: Promise<T>): Promise<T> {
    try {
      return await transaction;
    } catch (error) {
      const code = sqlStateOf(error);
      // 55P03 lock_not_available (lock_timeout), 57014 query_canceled (statement_timeout).
      if (code === '55P03' || code === '57014')
        throw new HoldException(
          HoldErrorCode.Busy,
          `a lock the hold step needed stayed taken longer than ${this.config.holds.lockTimeoutMs} ms; nothing changed, ask again`,
        );
      if (isShardFenced(error))
        throw new HoldException(HoldErrorCode.Busy, 'the SKU’s shard is moving to another database; nothing changed, ask again');
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

  private async record(tx: SqlTx, row: OwnStockRecord, shard: number, kind: MovementKind, delta: number, actor: string): Promise<void> {
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
    await this.events.append(tx, [{ record: row, shard, movement, requestId: null }]);
  }

  private view(hold: HoldRecord, row?: OwnStockRecord): HoldView {
    return {
      holdId: hold.id,
      reservationId: hold.reservationId,
      warehouseId: hold.warehouseId,
      sku: hold.sku,
      quantity: hold.quantity,
      status: hold.status,
      ...(hold.committedQuantity === undefined ? {} : { committedQuantity: hold.committedQuantity }),
      backordered: hold.backordered,
      ...(hold.status === 'held' && hold.expiresAt ? { expiresAt: hold.expiresAt.toISOString() } : {}),
      ...(row ? { stock: stockOf(row) } : {}),
    };
  }
}

/** A row as a hold's answer shows it. */
const stockOf = ({ onHand, reserved, safetyStock, backordered, version }: StockLevel): NonNullable<HoldView['stock']> => ({
  onHand,
  reserved,
  safetyStock,
  available: storefrontAvailable({ onHand, reserved, safetyStock }),
  backordered,
  version,
});

/** A locked row as a hold decision needs it: with the units its receipts still expect. */
const withExpected = (row: OwnStockRecord): HoldLevel => ({
  onHand: row.onHand,
  reserved: row.reserved,
  safetyStock: row.safetyStock,
  backordered: row.backordered,
  version: row.version,
  expected: expectedUnits(row.incoming),
});

/** The `holds` row a queued place inserts. */
const holdRowOf = ({ request, expiresAt }: QueuedPlace): Omit<HoldRecord, 'status'> & { readonly expiresAt: Date } => ({
  id: request.holdId,
  reservationId: request.reservationId,
  warehouseId: request.warehouseId,
  sku: request.sku,
  quantity: request.quantity,
  expiresAt,
  backordered: 0,
});

/** 409 insufficient-stock for a hold that found only `available` units (by its own limit, see holdableUnits). */
function insufficient(request: HoldRequest, available: number): StockException {
  return new StockException(StockErrorCode.Insufficient, `only ${available} of ${request.sku} are available in ${request.warehouseId}`, {
    warehouseId: request.warehouseId,
    sku: request.sku,
    requested: request.quantity,
    available,
  });
}

/**
 * Takes up to MAX_PLACE_BATCH holds off the front of `queue`, in order, at most one per hold id:
 * a second place of one hold (a retry racing the first) waits for the next transaction, where it
 * finds the hold and answers as a repeated place.
 */
function takeBatch(queue: QueuedPlace[]): QueuedPlace[] {
  const batch: QueuedPlace[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < queue.length && batch.length < MAX_PLACE_BATCH;) {
    const queued = queue[i]!;
    if (ids.has(queued.request.holdId)) {
      i++;
      continue;
    }
    ids.add(queued.request.holdId);
    batch.push(queued);
    queue.splice(i, 1);
  }
  return batch;
}
