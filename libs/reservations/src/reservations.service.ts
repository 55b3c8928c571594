import { Inject, Injectable, Logger } from '@nestjs/common';
import { allocationOrderOf, APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { problemBody } from '@stockmesh/http';
import { IdempotencyException, ShardDatabases, type IdempotentAnswer, type IdempotentRequest } from '@stockmesh/persistence';
import { AvailabilityService } from '@stockmesh/stock';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { candidatesFor, quantityToAsk, type WarehouseStock } from './allocation-policy.js';
import { HoldClient } from './hold-client.js';
import { ReservationErrorCode, ReservationException } from './reservation.exception.js';
import { ReservationRepository, type AllocationRecord, type ReservationLine, type ReservationRecord } from './reservation.repository.js';
import type { LineShortfallView, ReservationView } from './reservation.views.js';

export interface NewReservation {
  readonly lines: readonly ReservationLine[];
  readonly ttlSeconds: number;
  readonly reference: string | null;
  readonly allowSplit: boolean;
}

/** How long a repeated request waits for the first one with its key to finish. */
const REPLAY_WAIT_MS = 15_000;

/**
 * Reservations, coordinated by the region that received them. Making one is a saga: the
 * reservation is stored as `pending` under its Idempotency-Key, every hold is recorded as an
 * intent before the owner is asked, and the outcome (all lines held, or none) is decided in one
 * statement together with the answer to replay. Holds are single-shard transactions at the
 * owners (see HoldService); a hold whose answer never came is compensated by a release, which
 * the owner remembers, so a late hold cannot land. A coordinator that dies mid-saga stops
 * renewing its lease, and any instance of the region then fails the reservation and releases
 * what it held (ReservationSweeper).
 */
@Injectable()
export class ReservationsService {
  private readonly logger = new Logger(ReservationsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: ReservationRepository,
    private readonly holds: HoldClient,
    private readonly availability: AvailabilityService,
    private readonly clock: Clock,
  ) {}

  async create(request: NewReservation, idempotent: IdempotentRequest): Promise<IdempotentAnswer<unknown>> {
    const id = `${this.config.region.id}.${randomUUID()}`;
    const started = await this.home((tx) =>
      this.repository.insertPending(tx, { id, idempotencyKey: idempotent.key, fingerprint: idempotent.fingerprint, ...request }),
    );
    if (!started) return this.replay(idempotent);
    return this.run(started);
  }

  async get(id: string): Promise<ReservationView> {
    const reservation = await this.home((tx) => this.repository.find(tx, id));
    if (!reservation || reservation.status === 'failed')
      throw new ReservationException(ReservationErrorCode.NotFound, `no reservation ${id}`, { reservationId: id });
    if (reservation.status === 'pending')
      throw new ReservationException(ReservationErrorCode.InProgress, `reservation ${id} is still being made`);
    return this.view(reservation, await this.home((tx) => this.repository.allocations(tx, id)));
  }

  /** Places the order: the held units leave on-hand. Idempotent; 409 if released or expired. */
  commit(id: string): Promise<ReservationView> {
    return this.close(id, 'committed');
  }

  /** Gives the units back. Idempotent; 409 if committed or expired. */
  release(id: string): Promise<ReservationView> {
    return this.close(id, 'released');
  }

  /**
   * Carries a decided reservation's open holds to their end at the owners: commit for a
   * committed reservation, release for anything else. An owner that does not answer is tried
   * again by the sweeper.
   */
  async finish(reservationId?: string): Promise<number> {
    return this.home(async (tx) => {
      const open = await this.repository.unfinished(tx, 100, reservationId);
      for (const a of open) {
        const target = { reservationId: a.reservationId, warehouseId: a.warehouseId, sku: a.sku };
        const holdId = `${a.reservationId}.${a.allocationNo}`;
        const commit = a.reservationStatus === 'committed' && a.state === 'held';
        const outcome = commit ? await this.holds.commit(a.region, holdId, target) : await this.holds.release(a.region, holdId, target);
        if (outcome.kind === 'done')
          await this.repository.setAllocationState(tx, a.reservationId, a.allocationNo, commit ? 'committed' : 'released');
        else this.logger.warn({ msg: 'could not finish a hold; will retry', holdId, region: a.region, outcome });
      }
      return open.length;
    });
  }

  private async run(reservation: ReservationRecord): Promise<IdempotentAnswer<unknown>> {
    const { id, lines, allowSplit } = reservation;
    const started = this.clock.now();
    const order = allocationOrderOf(this.config.cluster, this.config.region.id);
    const seen = await this.availability.query([...new Set(lines.map((l) => l.sku))]);
    const stockOf = new Map<string, WarehouseStock[]>(seen.map((s) => [s.sku, s.warehouses]));
    let allocationNo = 0;
    let failedLine: number | undefined;

    for (const [lineNo, line] of lines.entries()) {
      let remaining = line.quantity;
      for (const candidate of candidatesFor(line, stockOf.get(line.sku) ?? [], order, allowSplit)) {
        // With allowSplit the owner's own count may differ from the view: ask once more for what it has.
        let ask = quantityToAsk(remaining, candidate, allowSplit);
        for (let attempt = 0; attempt < 2 && ask > 0 && remaining > 0; attempt++) {
          const allocation = {
            reservationId: id,
            allocationNo: ++allocationNo,
            lineNo,
            sku: line.sku,
            warehouseId: candidate.warehouseId,
            region: candidate.region,
            quantity: ask,
          };
          const holdId = `${id}.${allocation.allocationNo}`;
          await this.home((tx) => this.repository.addAllocation(tx, allocation));
          const outcome = await this.holds.place(candidate.region, {
            holdId,
            reservationId: id,
            warehouseId: candidate.warehouseId,
            sku: line.sku,
            quantity: ask,
            // The owner keeps the hold this long from now, plus its grace period, without news.
            ttlSeconds: reservation.ttlSeconds,
          });
          if (outcome.kind === 'done') {
            await this.home((tx) => this.repository.setAllocationState(tx, id, allocation.allocationNo, 'held'));
            this.crashIfAsked(reservation, candidate.region);
            remaining -= ask;
            break;
          }
          if (outcome.kind === 'unavailable') {
            // The hold may or may not have been placed: release it (the owner then refuses it if it arrives late).
            const undone = await this.holds.release(candidate.region, holdId, {
              reservationId: id,
              warehouseId: candidate.warehouseId,
              sku: line.sku,
            });
            if (undone.kind === 'done')
              await this.home((tx) => this.repository.setAllocationState(tx, id, allocation.allocationNo, 'released'));
            this.logger.warn({
              msg: 'owner did not answer; trying the next warehouse',
              reservationId: id,
              region: candidate.region,
              reason: outcome.reason,
            });
            break;
          }
          await this.home((tx) => this.repository.setAllocationState(tx, id, allocation.allocationNo, 'refused'));
          ask = outcome.kind === 'insufficient' && allowSplit ? Math.min(remaining, outcome.available) : 0;
        }
        if (remaining === 0) break;
      }
      if (remaining > 0) {
        failedLine = lineNo;
        break;
      }
    }

    if (failedLine !== undefined) {
      const shortfalls = lines.map((line, lineNo) => this.shortfall(line, stockOf.get(line.sku) ?? [], lineNo === failedLine, order));
      const body = problemBody('insufficient-stock', `line ${failedLine + 1} (${lines[failedLine].sku}) cannot be held; nothing is held`, {
        lines: shortfalls,
      });
      await this.home((tx) => this.repository.decide(tx, id, 'failed', 409, body, null));
      await this.finish(id);
      return { status: 409, body, replayed: false };
    }

    const expiresAt = new Date(this.clock.now() + reservation.ttlSeconds * 1000);
    const allocations = await this.home((tx) => this.repository.allocations(tx, id));
    const body = this.view({ ...reservation, status: 'held', expiresAt }, allocations);
    const decided = await this.home((tx) => this.repository.decide(tx, id, 'held', 201, body, expiresAt));
    if (!decided) {
      // Recovery took the saga over (its lease ran out): it failed the reservation; undo our holds.
      await this.finish(id);
      return this.replay({ key: reservation.idempotencyKey, fingerprint: reservation.fingerprint });
    }
    // Each hold was placed with the TTL counted from its own placing, the reservation's from now.
    // The owners' grace period covers the difference; after a saga that ate into it, move the
    // holds up to the reservation's expiry so that no owner releases them while it lives.
    if (this.clock.now() - started > this.config.holds.expiryGraceMs / 10) await this.renewHolds(allocations, expiresAt);
    return { status: 201, body, replayed: false };
  }

  private async renewHolds(allocations: readonly AllocationRecord[], until: Date): Promise<void> {
    await Promise.all(
      allocations
        .filter((a) => a.state === 'held')
        .map(async (a) => {
          const holdId = `${a.reservationId}.${a.allocationNo}`;
          const target = { reservationId: a.reservationId, warehouseId: a.warehouseId, sku: a.sku };
          const outcome = await this.holds.renew(a.region, holdId, target, until);
          if (outcome.kind !== 'done')
            this.logger.warn({ msg: 'could not renew a hold after a long saga', holdId, region: a.region, outcome });
        }),
    );
  }

  /** Test-only fault point: dies like a crashed process between two steps of the saga. */
  private crashIfAsked(reservation: ReservationRecord, holdRegion: string): void {
    const reference = this.config.faults.crashAfterRemoteHoldReference;
    if (reference && reservation.reference === reference && holdRegion !== this.config.region.id) {
      this.logger.warn({ msg: 'fault injection: killing the process after a remote hold', reservationId: reservation.id });
      process.kill(process.pid, 'SIGKILL');
    }
  }

  private shortfall(line: ReservationLine, stock: readonly WarehouseStock[], failed: boolean, order: readonly string[]): LineShortfallView {
    const counted = stock.filter((s) => (line.warehouseId ? s.warehouseId === line.warehouseId : order.includes(s.region)));
    const available = counted.reduce((sum, s) => sum + Math.max(s.available, 0), 0);
    return {
      sku: line.sku,
      requested: line.quantity,
      available: failed ? Math.min(available, line.quantity - 1) : available,
      ...(line.warehouseId ? { warehouseId: line.warehouseId } : {}),
    };
  }

  /** The stored answer of the request that first used this key, once it has one. */
  private async replay(idempotent: Pick<IdempotentRequest, 'key' | 'fingerprint'>): Promise<IdempotentAnswer<unknown>> {
    const deadline = this.clock.now() + REPLAY_WAIT_MS;
    for (;;) {
      const existing = await this.home((tx) => this.repository.findByKey(tx, idempotent.key));
      if (!existing) throw new Error(`reservation for key ${idempotent.key} vanished`);
      if (existing.fingerprint !== idempotent.fingerprint) throw new IdempotencyException(idempotent.key);
      if (existing.answerStatus !== null) return { status: existing.answerStatus, body: existing.answer, replayed: true };
      if (this.clock.now() > deadline)
        throw new ReservationException(ReservationErrorCode.InProgress, 'the first request with this key is still running');
      await sleep(50);
    }
  }

  private async close(id: string, to: 'committed' | 'released'): Promise<ReservationView> {
    const closed = await this.home((tx) => this.repository.close(tx, id, to));
    if (!closed) {
      const current = await this.home((tx) => this.repository.find(tx, id));
      if (!current || current.status === 'failed')
        throw new ReservationException(ReservationErrorCode.NotFound, `no reservation ${id}`, { reservationId: id });
      if (current.status !== to) {
        const status = current.status === 'held' ? 'expired' : current.status;
        throw new ReservationException(ReservationErrorCode.Conflict, `reservation ${id} is ${status}; it cannot be ${to}`, {
          reservationStatus: status,
        });
      }
    } else {
      await this.finish(id);
    }
    return this.get(id);
  }

  private view(
    r: Pick<ReservationRecord, 'id' | 'status' | 'expiresAt' | 'reference' | 'createdAt'>,
    allocations: readonly AllocationRecord[],
  ): ReservationView {
    return {
      id: r.id,
      status: r.status as ReservationView['status'],
      expiresAt: (r.expiresAt ?? new Date(0)).toISOString(),
      reference: r.reference,
      allocations: allocations
        .filter((a) => a.state === 'held' || a.state === 'committed' || (a.state === 'released' && r.status !== 'held'))
        .map((a) => ({ sku: a.sku, warehouseId: a.warehouseId, region: a.region, quantity: a.quantity })),
      createdAt: r.createdAt.toISOString(),
    };
  }

  private home<T>(
    work: Parameters<ShardDatabases['inDatabase']>[1] extends (tx: infer X) => Promise<unknown> ? (tx: X) => Promise<T> : never,
  ): Promise<T> {
    return this.databases.inDatabase(this.databases.home(), work);
  }
}
