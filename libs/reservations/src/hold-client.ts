import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { CodedException, RESERVATION_TTL } from '@stockmesh/contracts';
import { RegionCaller } from '@stockmesh/http';
import { Metrics, type SagaStep } from '@stockmesh/metrics';
import { HoldService, type HoldRequest } from '@stockmesh/stock';

/** What became of one step on a hold at the owning region. */
export type HoldOutcome =
  /** Done; of a place, `backordered`: its units the owner promised out of incoming stock. */
  | { readonly kind: 'done'; readonly backordered?: number }
  /** The owner has fewer units available than asked (nothing was held). */
  | { readonly kind: 'insufficient'; readonly available: number }
  /** The hold is in another state (e.g. released before it could be placed). */
  | { readonly kind: 'conflict' }
  /** No answer in time: the step may or may not have happened at the owner. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** The row a hold is on and the reservation it belongs to: what every step after the place names. */
export type HoldTarget = Pick<HoldRequest, 'reservationId' | 'warehouseId' | 'sku'>;

/** How long the coordinator waits for an owner before it counts the owner as unavailable. */
const REMOTE_TIMEOUT_MS = 2_000;

/**
 * Places, commits and releases holds at the region owning the stock: directly in this process
 * for its own warehouses, through the owner's internal API otherwise (its internal listener, each
 * call signed as coming from this region, through RegionCaller). Every call is idempotent by
 * hold id, so a step that timed out can simply be asked again (or compensated by a release).
 */
@Injectable()
export class HoldClient {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly holds: HoldService,
    private readonly clock: Clock,
    private readonly regions: RegionCaller,
    private readonly metrics: Metrics,
  ) {}

  /** `timeoutMs` shortens the wait for a remote owner below its usual 2 s (a reservation's deadline is near). */
  place(region: string, request: HoldRequest, timeoutMs = REMOTE_TIMEOUT_MS): Promise<HoldOutcome> {
    const { holdId, ...body } = request;
    return this.step(region, 'PUT', holdId, '', body, () => this.holds.place(request), timeoutMs);
  }

  /** Commits the hold: all its units, or `quantity` of them (a partial commit; the rest are released). */
  commit(region: string, holdId: string, target: HoldTarget, quantity?: number): Promise<HoldOutcome> {
    const body = quantity === undefined ? target : { ...target, quantity };
    return this.step(region, 'POST', holdId, '/commit', body, () => this.holds.commit(holdId, target, quantity));
  }

  release(region: string, holdId: string, target: HoldTarget, timeoutMs = REMOTE_TIMEOUT_MS): Promise<HoldOutcome> {
    return this.step(region, 'POST', holdId, '/release', target, () => this.holds.release(holdId, target), timeoutMs);
  }

  /**
   * Asks the owner to keep a held hold at least until `until` (this region's clock; sent as a
   * duration, so the owner's clock need not agree). Call it while the reservation lives whenever
   * its expiry moved past what the hold was placed (or last renewed) with, and while a decided
   * commit is still waiting for the owner: the owner otherwise releases the hold on its own once
   * that time plus its grace period has passed. `conflict` means the owner released it already.
   */
  renew(region: string, holdId: string, target: HoldTarget, until: Date): Promise<HoldOutcome> {
    const seconds = Math.ceil((until.getTime() - this.clock.now()) / 1000);
    const ttlSeconds = Math.min(Math.max(seconds, RESERVATION_TTL.min), RESERVATION_TTL.max);
    return this.step(region, 'POST', holdId, '/renew', { ...target, ttlSeconds }, () => this.holds.renew(holdId, target, ttlSeconds));
  }

  /** One step, counted and timed by step (from the path: `/commit` is commit, none is place) and owner. */
  private async step(...call: Parameters<HoldClient['call']>): Promise<HoldOutcome> {
    const [region, , , suffix] = call;
    const done = this.metrics.sagaStep((suffix.slice(1) || 'place') as SagaStep, region === this.config.region.id ? 'local' : 'remote');
    const outcome = await this.call(...call);
    done(outcome.kind);
    return outcome;
  }

  private async call(
    region: string,
    method: 'PUT' | 'POST',
    holdId: string,
    suffix: string,
    body: object,
    local: () => Promise<unknown>,
    timeoutMs = REMOTE_TIMEOUT_MS,
  ): Promise<HoldOutcome> {
    if (region === this.config.region.id) {
      try {
        return { kind: 'done', ...backorderedOf(await local()) };
      } catch (error) {
        if (error instanceof CodedException) return this.refused(error.code, error.extensions);
        throw error;
      }
    }
    // The timeout also bounds reading the answer's body: an owner that stops mid-answer is no answer.
    const answer = await this.regions.call(
      region,
      method,
      `/internal/v1/holds/${holdId}${suffix}`,
      body,
      Math.min(timeoutMs, REMOTE_TIMEOUT_MS),
    );
    if (answer.kind === 'unavailable') return answer;
    if (answer.status >= 200 && answer.status < 300) return { kind: 'done', ...backorderedOf(answer.body) };
    const problem = (answer.body ?? {}) as { code?: string };
    if (answer.status === 409 || answer.status === 404) return this.refused(problem.code ?? '', problem as Record<string, unknown>);
    return { kind: 'unavailable', reason: `region ${region} answered ${answer.status} ${problem.code ?? ''}` };
  }

  private refused(code: string, extensions: Readonly<Record<string, unknown>>): HoldOutcome {
    if (code === 'insufficient-stock') return { kind: 'insufficient', available: Number(extensions.available ?? 0) };
    if (code === 'hold-conflict' || code === 'hold-not-found') return { kind: 'conflict' };
    // The owner gave up waiting for a lock on the row and changed nothing: like no answer.
    if (code === 'busy') return { kind: 'unavailable', reason: 'the owner was busy (a lock wait ran out); nothing changed' };
    return { kind: 'unavailable', reason: `refused with ${code}` };
  }
}

/** The backordered units a hold's answer names, when it names some. */
function backorderedOf(view: unknown): { readonly backordered?: number } {
  const backordered = (view as { backordered?: unknown } | null | undefined)?.backordered;
  return typeof backordered === 'number' && Number.isInteger(backordered) && backordered > 0 ? { backordered } : {};
}
