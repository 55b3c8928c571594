import { Inject, Injectable, Logger } from '@nestjs/common';
import { allocationOrderOf, APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { exemptFromLimits } from '@stockmesh/auth';
import { KitsService } from '@stockmesh/catalog';
import { mayUseSafetyStock } from '@stockmesh/contracts';
import { problemBody, type RequestPrincipal } from '@stockmesh/http';
import { Metrics } from '@stockmesh/metrics';
import {
  IdempotencyException,
  scopedKey,
  ShardDatabases,
  type IdempotentAnswer,
  type IdempotentRequest,
  type SqlTx,
} from '@stockmesh/persistence';
import { AvailabilityService, type ChannelSelection } from '@stockmesh/stock';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { candidatesFor, quantityToAsk, reservableStock, type WarehouseStock } from './allocation-policy.js';
import { planPartialCommit, type CommitLine } from './commit-reservation/partial-commit-plan.js';
import { retryDelayMs } from './finish-backoff.js';
import { commitLinesOf, expandKitLines } from './kit-lines.js';
import { HoldClient, type HoldOutcome } from './hold-client.js';
import { ReservationFaultPoints } from './reservation-fault-points.js';
import { Saga, type PlannedReservation } from './reservation-saga.js';
import { ReservationErrorCode, ReservationException } from './reservation.exception.js';
import {
  ReservationRepository,
  SAGA_LEASE_SECONDS,
  type AllocationRecord,
  type ClaimedAllocation,
  type FinishResult,
  type NewAllocation,
  type ReservationLine,
  type ReservationRecord,
  type ReservationStatus,
} from './reservation.repository.js';
import type { AllocationView, LineShortfallView, ReservationView } from './reservation.views.js';

export interface NewReservation {
  readonly lines: readonly ReservationLine[];
  readonly ttlSeconds: number;
  readonly reference: string | null;
  readonly allowSplit: boolean;
  /** Units short on hand may be held out of the warehouses' incoming stock (backorders). */
  readonly allowBackorder: boolean;
  /** The sales channel the reservation is for (only its warehouses, in its order), or `null`. */
  readonly channel: ChannelSelection | null;
}

/** What a commit or release answers: 202 while owners have not all committed yet. */
export interface ClosedReservation {
  readonly status: 200 | 202;
  readonly view: ReservationView;
}

/** What one finishing batch did. */
export interface FinishReport {
  /** Owners asked (one call per allocation). */
  readonly attempted: number;
  readonly finished: number;
  /** Not answered (owner down, busy): tried again after a backoff. */
  readonly retrying: number;
  /** Refused by the owner: the hold is not where the reservation needs it. */
  readonly lost: number;
}

/** How long a repeated request waits for the first one with its key to finish. */
const REPLAY_WAIT_MS = 15_000;
/** Allocations one finishing batch claims, and how many owners it asks at once. */
export const FINISH_BATCH = 20;
const FINISH_CONCURRENCY = 10;
/**
 * How long a claim keeps other instances off an allocation: longer than a batch can take (two
 * rounds of calls of at most 2 s each remotely, or 10 s waiting for a pooled connection locally).
 */
const CLAIM_MS = 60_000;
/**
 * Kept free at the end of a reservation's deadline to write its answer: no call to an owner may
 * run into it. A hold step is not started with less than MIN_STEP_MS left.
 */
const ANSWER_RESERVE_MS = 250;
const MIN_STEP_MS = 100;

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
  /** Holds found lost at their owner since the process started (each also logged as an error). */
  private holdsLost = 0;
  /** Creates refused by a quota, and reservations failed by their deadline, since the process started. */
  private quotaRefusals = 0;
  private deadlinesExceeded = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: ReservationRepository,
    private readonly holds: HoldClient,
    private readonly availability: AvailabilityService,
    private readonly clock: Clock,
    private readonly faults: ReservationFaultPoints,
    private readonly metrics: Metrics,
    private readonly kits: KitsService,
  ) {}

  /** Counters of this process, for logs and tests. */
  counters(): { readonly holdsLost: number; readonly quotaRefusals: number; readonly deadlinesExceeded: number } {
    return { holdsLost: this.holdsLost, quotaRefusals: this.quotaRefusals, deadlinesExceeded: this.deadlinesExceeded };
  }

  /**
   * Makes a reservation for `creator` (an API key), within its quotas at this region, and
   * answers within the reservation deadline: held, or failed with nothing held. The reservation
   * leaves every warehouse's safety stock untouched, unless the key has `stock:reserve-safety`.
   */
  async create(asked: NewReservation, idempotent: IdempotentRequest, creator: RequestPrincipal): Promise<IdempotentAnswer<unknown>> {
    const request = { ...asked, lines: await this.withKitsExpanded(asked.lines) };
    this.checkChannel(request);
    const deadline = this.clock.now() + this.config.reservations.deadlineMs;
    const saga = new Saga(
      {
        id: `${this.config.region.id}.${randomUUID()}`,
        // Scoped: another caller's request with the same key is another reservation.
        idempotencyKey: scopedKey(idempotent),
        fingerprint: idempotent.fingerprint,
        createdBy: creator.id,
        ...request,
      },
      idempotent.key,
      !exemptFromLimits(this.config, creator),
    );
    try {
      return await this.run(saga, deadline, mayUseSafetyStock(creator.scopes));
    } finally {
      saga.stop();
    }
  }

  /**
   * Starts the saga: the reservation, `pending` under its Idempotency-Key and within its key's
   * quotas, and the intent of its first hold (if it has one), in one transaction. `undefined`
   * when the key was already used: the caller replays that reservation instead. From then on the
   * saga's lease is renewed while it works, however long one step takes (a remote hold, a local
   * hold waiting for a connection), so recovery never takes a live saga for a dead one; a saga
   * that is taken over anyway is fenced (see addAllocation).
   */
  private async begin(saga: Saga, first?: NewAllocation): Promise<ReservationRecord | undefined> {
    const { planned } = saga;
    const record = saga.limited
      ? await this.home(async (tx) => {
          await this.repository.lockCreator(tx, planned.createdBy);
          // A repeat of a request the key made already replays it, whatever the quota says now.
          if (await this.repository.findByKey(tx, planned.idempotencyKey)) return undefined;
          this.checkQuotas(planned, await this.repository.openUsage(tx, planned.createdBy, new Date(this.clock.now())));
          const inserted = await this.repository.insertPending(tx, stored(planned), this.leaseUntil());
          if (inserted && first) await this.repository.insertIntent(tx, first);
          return inserted;
        })
      : // Without quotas to check, one statement: no transaction around it.
        await this.homeStatement((tx) =>
          first
            ? this.repository.insertPendingWithIntent(tx, stored(planned), this.leaseUntil(), first)
            : this.repository.insertPending(tx, stored(planned), this.leaseUntil()),
        );
    if (!record) return undefined;
    saga.started(record, () =>
      this.homeStatement((tx) => this.repository.renewLease(tx, record.id, this.leaseUntil())).then(
        () => undefined,
        (error: unknown) =>
          this.logger.warn({ msg: 'could not renew a saga lease; retrying', reservationId: record.id, err: (error as Error).message }),
      ),
    );
    return record;
  }

  /**
   * The lines with every kit this region knows replaced by its components' lines (see
   * `expandKitLines`), or 422 `reservation-too-large` past the bounds of a request.
   */
  private async withKitsExpanded(lines: readonly ReservationLine[]): Promise<ReservationLine[]> {
    const expansion = expandKitLines(lines, await this.kits.kitsAmong([...new Set(lines.map((l) => l.sku))]));
    if (expansion.kind === 'lines') return expansion.lines;
    throw new ReservationException(ReservationErrorCode.TooLarge, expansion.detail, expansion.extensions);
  }

  /** Refuses (422) a reservation for a channel with a line naming a warehouse the channel does not sell from. */
  private checkChannel({ channel, lines }: NewReservation): void {
    if (!channel) return;
    const outside = lines.findIndex((l) => l.warehouseId !== undefined && !channel.warehouseIds.includes(l.warehouseId));
    if (outside < 0) return;
    // A kit's component lines were expanded from one request line: name that one.
    const lineNo = lines[outside].kit?.line ?? outside + 1;
    throw new ReservationException(
      ReservationErrorCode.WarehouseOutsideChannel,
      `line ${lineNo} names warehouse ${lines[outside].warehouseId}, which channel ${channel.id} does not sell from`,
      { channelId: channel.id, warehouseId: lines[outside].warehouseId, line: lineNo },
    );
  }

  /** Refuses a reservation that would take its key past a quota (429, saying which). */
  private checkQuotas(request: NewReservation, usage: { readonly reservations: number; readonly units: number }): void {
    const { openReservations, unitsHeld } = this.config.limits;
    const units = request.lines.reduce((sum, l) => sum + l.quantity, 0);
    if (usage.reservations >= openReservations) {
      this.quotaRefusals++;
      throw new ReservationException(
        ReservationErrorCode.OpenReservationsQuota,
        `this API key has ${usage.reservations} open reservations in this region, its quota; commit or release one first`,
        { quota: 'open-reservations', limit: openReservations, open: usage.reservations },
      );
    }
    if (usage.units + units > unitsHeld) {
      this.quotaRefusals++;
      throw new ReservationException(
        ReservationErrorCode.HeldUnitsQuota,
        `this API key has ${usage.units} units in open reservations in this region; ${units} more would pass its quota of ${unitsHeld}`,
        { quota: 'units-held', limit: unitsHeld, held: usage.units, requested: units },
      );
    }
  }

  async get(id: string): Promise<ReservationView> {
    const reservation = await this.homeRead((tx) => this.repository.find(tx, id));
    if (!reservation || reservation.status === 'failed')
      throw new ReservationException(ReservationErrorCode.NotFound, `no reservation ${id}`, { reservationId: id });
    if (reservation.status === 'pending')
      throw new ReservationException(ReservationErrorCode.InProgress, `reservation ${id} is still being made`);
    return this.view(reservation, await this.homeRead((tx) => this.repository.allocations(tx, id)));
  }

  /**
   * Places the order: every owner commits its hold (the units leave on-hand). 200 `committed`
   * once all have; 202 `committing` while an owner has not answered (the sweeper carries it on;
   * ask again); 409 `reservation-hold-lost` when an owner no longer had its hold (the others are
   * committed). Idempotent; 409 `reservation-conflict` if released or expired. With `lines`, a
   * partial commit: only the units they name leave on-hand and the rest are released (422
   * `reservation-commit-invalid` if they name more than is held, or nothing). The first commit
   * decides: a repeated commit answers the reservation as it is, whatever lines it names.
   */
  async commit(id: string, lines?: readonly CommitLine[]): Promise<ClosedReservation> {
    if (lines === undefined) return this.close(id, 'committed');
    const reservation = await this.homeRead((tx) => this.repository.find(tx, id));
    // Anything but a held reservation gets close's answer (replayed, or 409) whatever the lines say.
    if (reservation?.status !== 'held') return this.close(id, 'committed');
    // A kit commits whole: its line becomes its components' lines, taken from that kit's allocations only.
    const allocations = (await this.homeRead((tx) => this.repository.allocations(tx, id))).map((a) => ({
      ...a,
      kitSku: reservation.lines[a.lineNo]?.kit?.sku,
    }));
    const plan = planPartialCommit(allocations, commitLinesOf(lines, reservation.lines));
    if (plan.kind === 'invalid') throw new ReservationException(ReservationErrorCode.CommitInvalid, plan.detail, plan.extensions);
    return this.close(id, 'committed', plan.units);
  }

  /**
   * Keeps a held reservation, and its holds at every owner, until `ttlSeconds` from now, but never
   * past STOCKMESH_RESERVATION_MAX_LIFETIME_SECONDS after it was made, and never earlier than it
   * was (so asking twice is harmless). The owners renew first, outside any transaction: an owner
   * that does not answer leaves the reservation's expiry as it was (503, ask again; holds already
   * renewed only live longer at their owner, and the coordinator still releases them at its
   * expiry); an owner that no longer has its hold makes it 409 `reservation-hold-lost`. Then the
   * expiry moves in one statement that only a held, unexpired reservation passes, so an extension
   * racing a commit, a release or the expiry sweeper loses cleanly (409 `reservation-conflict`).
   */
  async extend(id: string, ttlSeconds: number): Promise<ReservationView> {
    const reservation = await this.homeRead((tx) => this.repository.find(tx, id));
    if (!reservation || reservation.status === 'failed')
      throw new ReservationException(ReservationErrorCode.NotFound, `no reservation ${id}`, { reservationId: id });
    if (reservation.status === 'pending')
      throw new ReservationException(ReservationErrorCode.InProgress, `reservation ${id} is still being made`);
    const now = this.clock.now();
    const expiresAt = reservation.expiresAt?.getTime() ?? 0;
    if (reservation.status !== 'held' || expiresAt <= now) throw this.notExtendable(id, reservation.status);
    const limit = reservation.createdAt.getTime() + this.config.reservations.maxLifetimeMs;
    const until = new Date(Math.max(expiresAt, Math.min(now + ttlSeconds * 1000, limit)));
    const allocations = await this.homeRead((tx) => this.repository.allocations(tx, id));
    if (until.getTime() > expiresAt) {
      const outcomes = await this.renewHolds(allocations, until);
      const lost = outcomes.filter((o) => o.outcome.kind === 'conflict');
      if (lost.length > 0) {
        throw new ReservationException(
          ReservationErrorCode.HoldLost,
          `the owners of ${lost.length} of the reservation's holds no longer have them; it cannot be extended`,
          { reservationStatus: reservation.status, lost: lost.map((o) => ({ region: o.region, holdId: o.holdId })) },
        );
      }
      const silent = outcomes.find((o) => o.outcome.kind !== 'done');
      if (silent) {
        throw new ReservationException(
          ReservationErrorCode.RegionUnavailable,
          `region ${silent.region} did not renew its hold; the reservation's expiry is unchanged, ask again`,
          { region: silent.region },
        );
      }
    }
    const extended = await this.homeStatement((tx) => this.repository.extend(tx, id, until, new Date(now)));
    if (!extended) {
      const current = await this.homeRead((tx) => this.repository.find(tx, id));
      throw this.notExtendable(id, current?.status ?? 'released');
    }
    return this.view(extended, allocations);
  }

  private notExtendable(id: string, status: ReservationStatus): ReservationException {
    const shown = status === 'held' ? 'expired' : status;
    return new ReservationException(ReservationErrorCode.Conflict, `reservation ${id} is ${shown}; it cannot be extended`, {
      reservationStatus: shown,
    });
  }

  /**
   * Gives the units back. Decided here at once (a release needs no owner's consent); the owners are
   * told now or, if one does not answer, by the sweeper. Idempotent; 409 if committed or expired.
   */
  async release(id: string): Promise<ReservationView> {
    return (await this.close(id, 'released')).view;
  }

  /**
   * Carries decided reservations' open holds to their end at the owners (of one reservation if
   * given): commit for a committing reservation's holds, release for anything else. One bounded
   * batch: the work is claimed in one short transaction, the owners are asked with no
   * transaction open, and the results are recorded in another; an owner that does not answer is
   * asked again after a backoff, and one that refuses has lost the hold.
   */
  async finish(reservationId?: string): Promise<FinishReport> {
    const now = this.clock.now();
    const claimed = await this.home((tx) =>
      this.repository.claimDue(tx, new Date(now), new Date(now + CLAIM_MS), FINISH_BATCH, reservationId),
    );
    return this.carry(claimed);
  }

  /** Asks the owners about claimed allocations, with no transaction open, and records what they said. */
  private async carry(claimed: readonly ClaimedAllocation[]): Promise<FinishReport> {
    if (claimed.length === 0) return { attempted: 0, finished: 0, retrying: 0, lost: 0 };
    const results = await inParallel(claimed, FINISH_CONCURRENCY, (a) => this.attempt(a));
    const commitFailed = await this.home(async (tx) => {
      for (const [i, a] of claimed.entries()) await this.repository.recordAttempt(tx, a, results[i]);
      // Every claimed reservation: a partial commit's released allocations may be the last to end.
      return this.repository.settleCommits(tx, [...new Set(claimed.map((a) => a.reservationId))]);
    });
    // Owners that did not answer: one line per batch and region, not one per hold.
    const unanswered = new Map<string, { holds: number; reason: string }>();
    for (const [i, a] of claimed.entries()) {
      const result = results[i];
      if (result.kind === 'lost') {
        this.holdsLost++;
        this.logger.error({
          msg: 'an owner no longer had a hold of a decided reservation',
          holdId: `${a.reservationId}.${a.allocationNo}`,
          region: a.region,
          target: a.target,
          reason: result.reason,
        });
      } else if (result.kind === 'retry') {
        unanswered.set(a.region, { holds: (unanswered.get(a.region)?.holds ?? 0) + 1, reason: result.reason });
      }
    }
    for (const [region, { holds, reason }] of unanswered)
      this.logger.warn({ msg: 'could not finish holds at an owner; each is retried after its backoff', region, holds, reason });
    if (commitFailed.length > 0) this.logger.error({ msg: 'reservations could not be committed in full', reservations: commitFailed });
    const count = (kind: FinishResult['kind']): number => results.filter((r) => r.kind === kind).length;
    const report = { attempted: claimed.length, finished: count('done'), retrying: count('retry'), lost: count('lost') };
    this.metrics.sagaFinished(report);
    return report;
  }

  /** One call to an owner for one claimed allocation, and what it came to. */
  private async attempt(a: ClaimedAllocation): Promise<FinishResult> {
    const target = { reservationId: a.reservationId, warehouseId: a.warehouseId, sku: a.sku };
    const holdId = `${a.reservationId}.${a.allocationNo}`;
    const commit = a.target === 'commit' && a.state === 'held';
    let outcome: HoldOutcome;
    try {
      outcome = commit
        ? await this.holds.commit(a.region, holdId, target, a.commitQuantity ?? undefined)
        : await this.holds.release(a.region, holdId, target);
    } catch (error) {
      // A local step that failed (its database busy or down) is like an owner that did not answer.
      outcome = { kind: 'unavailable', reason: (error as Error).message };
    }
    if (outcome.kind === 'done') return { kind: 'done', state: commit ? 'committed' : 'released' };
    if (outcome.kind === 'conflict')
      return { kind: 'lost', reason: `region ${a.region} refused to ${commit ? 'commit' : 'release'} hold ${holdId}` };
    const backoff = retryDelayMs(a.attempts, Math.random());
    const reason = outcome.kind === 'unavailable' ? outcome.reason : `unexpected answer ${outcome.kind}`;
    return { kind: 'retry', at: new Date(this.clock.now() + backoff), reason };
  }

  /**
   * The saga, bounded by `deadline` (this region's clock): a hold step starts only with time left
   * before it, and a call to an owner waits no longer than that time (nor than its own 2 s).
   * When the time is up, the reservation fails and the finisher releases everything it placed,
   * whether answered or not (a late hold is refused by its release), after the answer.
   */
  /**
   * `mayUseSafetyStock`: the key's capability, decided here from its verified scopes and sent
   * with every hold to its owner (in the signed region call), which holds it to that limit.
   */
  private async run(saga: Saga, deadline: number, mayUseSafetyStock: boolean): Promise<IdempotentAnswer<unknown>> {
    const { id, lines, allowSplit, allowBackorder, ttlSeconds, reference, channel } = saga.planned;
    const started = this.clock.now();
    const replay = (): Promise<IdempotentAnswer<unknown>> => this.replay(saga.planned, saga.clientKey);
    /** Time left for the next call to an owner. */
    const left = (): number => deadline - ANSWER_RESERVE_MS - this.clock.now();
    /** Regions that did not answer a hold step in time, for the deadline's answer. */
    const unanswered = new Set<string>();
    const order = allocationOrderOf(this.config.cluster, this.config.region.id);
    // With a channel: only its warehouses, in its order (the shortfall reports them alone too).
    // The lines' kits are expanded already (`create`): their SKUs are read as rows, kits not looked up again.
    const seen = await this.availability.rows([...new Set(lines.map((l) => l.sku))], channel ?? undefined);
    const stockOf = new Map<string, WarehouseStock[]>(
      seen.map((s) => [s.sku, s.warehouses.map((w) => reservableStock(w, mayUseSafetyStock, allowBackorder))]),
    );
    let allocationNo = 0;
    let failedLine: number | undefined;

    for (const [lineNo, line] of lines.entries()) {
      let remaining = line.quantity;
      for (const candidate of candidatesFor(line, stockOf.get(line.sku) ?? [], order, allowSplit, channel?.warehouseIds)) {
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
          const timeoutMs = left();
          if (timeoutMs < MIN_STEP_MS) return this.pastDeadline(saga, [...unanswered]);
          const step = { reservationId: id, reference, allocationNo: allocation.allocationNo, region: candidate.region };
          if (!saga.record) {
            if (!(await this.begin(saga, allocation))) return replay();
          } else if (!(await this.home((tx) => this.repository.addAllocation(tx, allocation, this.leaseUntil())))) {
            // Recovery took the saga over (it failed the reservation and releases what we held): place nothing more.
            this.logger.warn({ msg: 'a saga was taken over; it stops', reservationId: id });
            return replay();
          }
          saga.placing(allocation);
          await this.faults.reach('before-hold', step);
          const outcome = await this.holds.place(
            candidate.region,
            {
              holdId,
              reservationId: id,
              warehouseId: candidate.warehouseId,
              sku: line.sku,
              quantity: ask,
              // The owner keeps the hold this long from now, plus its grace period, without news.
              ttlSeconds,
              // Sent only when set: an owner not upgraded yet refuses the unknown field (the hold
              // then fails as unanswered) rather than holding into the safety stock unknowingly.
              ...(mayUseSafetyStock ? { mayUseSafetyStock } : {}),
              // Likewise: an owner not upgraded yet refuses it rather than hold on hand only unknowingly.
              ...(allowBackorder ? { allowBackorder } : {}),
            },
            timeoutMs,
          );
          if (outcome.kind === 'done') {
            // Recorded with the decision: until then the intent stands for the hold (a saga that
            // stops here is recovered by releasing its intents, held or not).
            saga.settle(allocation.allocationNo, 'held', outcome.backordered);
            await this.faults.reach('after-hold', step);
            remaining -= ask;
            break;
          }
          if (outcome.kind === 'unavailable') {
            unanswered.add(candidate.region);
            // The hold may or may not have been placed: release it (the owner then refuses it if it
            // arrives late). Out of time, the intent stays open, and the decision gives it to the finisher.
            const releaseMs = left();
            const target = { reservationId: id, warehouseId: candidate.warehouseId, sku: line.sku };
            const undone = releaseMs < MIN_STEP_MS ? outcome : await this.holds.release(candidate.region, holdId, target, releaseMs);
            if (undone.kind === 'done') {
              await this.homeStatement((tx) => this.repository.settleIntent(tx, id, allocation.allocationNo, 'released'));
              saga.settle(allocation.allocationNo, 'released');
            }
            this.logger.warn({
              msg: 'owner did not answer; trying the next warehouse',
              reservationId: id,
              region: candidate.region,
              reason: outcome.reason,
            });
            break;
          }
          saga.settle(allocation.allocationNo, 'refused');
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
      const failed = lines[failedLine];
      const what = failed.kit
        ? `line ${failed.kit.line} (kit ${failed.kit.sku}: component ${failed.sku})`
        : `line ${failedLine + 1} (${failed.sku})`;
      const body = problemBody('insufficient-stock', `${what} cannot be held; nothing is held`, { lines: shortfalls });
      if (!(await this.decide(saga, 'failed', 409, body, null))) return replay();
      this.metrics.reservation('insufficient_stock');
      // Release what was held now, so the units are for sale again when the client hears "no";
      // an owner that does not answer is left to the sweeper rather than delay the answer.
      await this.finishWithin(id, deadline);
      return { status: 409, body, replayed: false };
    }

    // Every line held: the saga has placed at least one allocation, so the reservation exists.
    const record = saga.record!;
    const expiresAt = new Date(this.clock.now() + ttlSeconds * 1000);
    // The allocations as the decision records them: nobody else writes them while the saga is pending.
    const allocations = saga.allocations();
    const body = this.view({ ...record, status: 'held', expiresAt }, allocations);
    if (!(await this.decide(saga, 'held', 201, body, expiresAt))) {
      // Recovery took the saga over (its lease ran out): it failed the reservation; undo our holds.
      await this.finishWithin(id, deadline);
      return replay();
    }
    this.metrics.reservation('held');
    // Each hold was placed with the TTL counted from its own placing, the reservation's from now.
    // The owners' grace period covers the difference; after a saga that ate into it, move the
    // holds up to the reservation's expiry so that no owner releases them while it lives. After
    // the answer: the holds are placed and the deadline is the client's, not the renewal's.
    if (this.clock.now() - started > this.config.holds.expiryGraceMs / 10)
      void this.renewHolds(allocations, expiresAt).then(
        (outcomes) => {
          for (const { holdId, region, outcome } of outcomes)
            if (outcome.kind !== 'done') this.logger.warn({ msg: 'could not renew a hold after a long saga', holdId, region, outcome });
        },
        (error: unknown) =>
          this.logger.warn({ msg: 'could not renew holds after a long saga', reservationId: id, err: (error as Error).message }),
      );
    return { status: 201, body, replayed: false };
  }

  /**
   * The deadline's answer: the reservation fails (503 `reservation-deadline-exceeded`), and every
   * allocation still open, held or never answered, goes to the finisher, which releases it now
   * and, at an owner that does not answer, again after each backoff until it does.
   */
  private async pastDeadline(saga: Saga, unanswered: readonly string[]): Promise<IdempotentAnswer<unknown>> {
    const { id } = saga.planned;
    const ms = this.config.reservations.deadlineMs;
    const body = problemBody(
      'reservation-deadline-exceeded',
      `the reservation could not be made within ${ms} ms${unanswered.length > 0 ? ` (no answer in time from ${unanswered.join(', ')})` : ''}; ` +
        'nothing is held (what was held is being released); try again with a new Idempotency-Key',
      { deadlineMs: ms, unansweredRegions: unanswered },
    );
    if (!(await this.decide(saga, 'failed', 503, body, null))) {
      // Recovery took the saga over meanwhile (it failed the reservation and releases its holds),
      // or the key was used by another request before this saga began.
      return this.replay(saga.planned, saga.clientKey);
    }
    this.deadlinesExceeded++;
    this.logger.warn({ msg: 'a reservation ran out of time; its holds are released', reservationId: id, unanswered });
    void this.finishWithin(id, this.clock.now());
    return { status: 503, body, replayed: false };
  }

  /**
   * Ends the saga with its answer, recording the owners' answers it kept (one transaction). A saga
   * that placed nothing decides as it begins: the reservation is inserted already decided (its
   * key stays used, and replays the answer). `false` when recovery took the saga over, or when
   * the key was used by another request first: the caller replays.
   */
  private async decide(
    saga: Saga,
    status: 'held' | 'failed',
    answerStatus: number,
    answer: unknown,
    expiresAt: Date | null,
  ): Promise<boolean> {
    const { id } = saga.planned;
    if (saga.record)
      // One statement (see ReservationRepository.decide): no transaction around it.
      return this.homeStatement((tx) =>
        this.repository.decide(tx, id, status, answerStatus, answer, expiresAt, saga.settled(), saga.backordered()),
      );
    return this.home(async (tx) => {
      const inserted = await this.repository.insertPending(tx, stored(saga.planned), this.leaseUntil());
      return inserted !== undefined && (await this.repository.decide(tx, id, status, answerStatus, answer, expiresAt));
    });
  }

  /**
   * Carries a decided reservation's open allocations to the owners, waiting for it until
   * `deadline` at most; what is left runs on (and whatever fails is retried by the sweeper).
   */
  private async finishWithin(id: string, deadline: number): Promise<void> {
    const finishing = this.finish(id).then(
      () => undefined,
      (error: unknown) =>
        this.logger.warn({
          msg: 'could not finish a failed reservation now; the sweeper will',
          reservationId: id,
          err: (error as Error).message,
        }),
    );
    const wait = deadline - this.clock.now();
    if (wait <= 0) return;
    const timer = new AbortController();
    await Promise.race([finishing, sleep(wait, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
  }

  /** Renews every held hold of the reservation to `until` at its owner, in parallel; what each owner said. */
  private renewHolds(
    allocations: readonly AllocationRecord[],
    until: Date,
  ): Promise<{ readonly region: string; readonly holdId: string; readonly outcome: HoldOutcome }[]> {
    return Promise.all(
      allocations
        .filter((a) => a.state === 'held')
        .map(async (a) => {
          const holdId = `${a.reservationId}.${a.allocationNo}`;
          const target = { reservationId: a.reservationId, warehouseId: a.warehouseId, sku: a.sku };
          return { region: a.region, holdId, outcome: await this.holds.renew(a.region, holdId, target, until) };
        }),
    );
  }

  private shortfall(line: ReservationLine, stock: readonly WarehouseStock[], failed: boolean, order: readonly string[]): LineShortfallView {
    const counted = stock.filter((s) => (line.warehouseId ? s.warehouseId === line.warehouseId : order.includes(s.region)));
    const available = counted.reduce((sum, s) => sum + Math.max(s.available, 0), 0);
    return {
      sku: line.sku,
      requested: line.quantity,
      available: failed ? Math.min(available, line.quantity - 1) : available,
      ...(line.warehouseId ? { warehouseId: line.warehouseId } : {}),
      ...(line.kit ? { kitSku: line.kit.sku, kitLine: line.kit.line } : {}),
    };
  }

  /**
   * The stored answer of the request that first used this key (`storedKey`, scoped), once it has
   * one. `clientKey` is the key as the client sent it, for the error.
   */
  private async replay(
    idempotent: { readonly idempotencyKey: string; readonly fingerprint: string },
    clientKey = idempotent.idempotencyKey,
  ): Promise<IdempotentAnswer<unknown>> {
    const deadline = this.clock.now() + REPLAY_WAIT_MS;
    for (;;) {
      const existing = await this.homeRead((tx) => this.repository.findByKey(tx, idempotent.idempotencyKey));
      if (!existing) throw new Error(`reservation for key ${clientKey} vanished`);
      if (existing.fingerprint !== idempotent.fingerprint) throw new IdempotencyException(clientKey);
      if (existing.answerStatus !== null) return { status: existing.answerStatus, body: existing.answer, replayed: true };
      if (this.clock.now() > deadline)
        throw new ReservationException(ReservationErrorCode.InProgress, 'the first request with this key is still running');
      await sleep(50);
    }
  }

  private async close(id: string, to: 'committed' | 'released', partial?: ReadonlyMap<number, number>): Promise<ClosedReservation> {
    const now = this.clock.now();
    const closed = await this.home((tx) =>
      this.repository.close(tx, id, to === 'committed' ? 'committing' : 'released', new Date(now), new Date(now + CLAIM_MS), partial),
    );
    if (closed) {
      this.metrics.reservation(to);
      // Carry the decision to the owners now; one that does not answer is left to the sweeper.
      await this.carry(closed.claimed);
    } else {
      const current = await this.homeRead((tx) => this.repository.find(tx, id));
      if (!current || current.status === 'failed')
        throw new ReservationException(ReservationErrorCode.NotFound, `no reservation ${id}`, { reservationId: id });
      const already = to === 'committed' ? ['committing', 'committed', 'commit-failed'] : ['released'];
      if (!already.includes(current.status)) {
        const status = current.status === 'held' ? 'expired' : current.status;
        throw new ReservationException(ReservationErrorCode.Conflict, `reservation ${id} is ${status}; it cannot be ${to}`, {
          reservationStatus: status,
        });
      }
      // Asked again: carry on what is due (an owner in backoff waits for the sweeper).
      await this.finish(id);
    }
    const reservation = await this.homeRead((tx) => this.repository.find(tx, id));
    const allocations = await this.homeRead((tx) => this.repository.allocations(tx, id));
    if (!reservation) throw new ReservationException(ReservationErrorCode.NotFound, `no reservation ${id}`, { reservationId: id });
    const view = this.view(reservation, allocations);
    if (reservation.status === 'commit-failed') {
      const lost = view.allocations.filter((a) => a.state === 'lost');
      throw new ReservationException(
        ReservationErrorCode.HoldLost,
        `the owners of ${lost.length} of the reservation's holds no longer had them; its other holds are committed`,
        { reservationStatus: reservation.status, lost, allocations: view.allocations },
      );
    }
    return { status: reservation.status === 'committing' ? 202 : 200, view };
  }

  private leaseUntil(): Date {
    return new Date(this.clock.now() + SAGA_LEASE_SECONDS * 1000);
  }

  private view(
    r: Pick<ReservationRecord, 'id' | 'status' | 'expiresAt' | 'reference' | 'channel' | 'createdAt' | 'lines'>,
    allocations: readonly AllocationRecord[],
  ): ReservationView {
    return {
      id: r.id,
      status: r.status as ReservationView['status'],
      expiresAt: (r.expiresAt ?? new Date(0)).toISOString(),
      reference: r.reference,
      channel: r.channel,
      allocations: allocations
        .filter(
          (a) => a.state === 'held' || a.state === 'committed' || a.state === 'lost' || (a.state === 'released' && r.status !== 'held'),
        )
        .map((a) => ({
          sku: a.sku,
          warehouseId: a.warehouseId,
          region: a.region,
          quantity: a.quantity,
          state: a.state as AllocationView['state'],
          ...(a.commitQuantity !== null && a.state === 'committed' ? { committedQuantity: a.commitQuantity } : {}),
          ...(a.backordered > 0 ? { backordered: a.backordered } : {}),
          ...kitOf(r.lines[a.lineNo]),
        })),
      createdAt: r.createdAt.toISOString(),
    };
  }

  /** Reads on the home database, outside a transaction (no `BEGIN`/`COMMIT` round trips). */
  private homeRead<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.databases.read(this.databases.home(), work);
  }

  /** One write statement on the home database: atomic by itself, so outside a transaction. */
  private homeStatement<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.databases.autocommit(this.databases.home(), work);
  }

  private home<T>(
    work: Parameters<ShardDatabases['inDatabase']>[1] extends (tx: infer X) => Promise<unknown> ? (tx: X) => Promise<T> : never,
  ): Promise<T> {
    return this.databases.inDatabase(this.databases.home(), work);
  }
}

/** The kit an allocation's line belongs to, as its view shows it (nothing for a plain line). */
function kitOf(line: ReservationLine | undefined): Pick<AllocationView, 'kitSku' | 'kitLine'> {
  return line?.kit ? { kitSku: line.kit.sku, kitLine: line.kit.line } : {};
}

/** A planned reservation as its row stores it: the channel by its id. */
function stored(planned: PlannedReservation): Omit<PlannedReservation, 'channel'> & { readonly channel: string | null } {
  return { ...planned, channel: planned.channel?.id ?? null };
}

/** Runs `work` on every item, at most `limit` at a time; results in the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
