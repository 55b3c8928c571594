import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, RepeatingTask, type AppConfig } from '@stockmesh/config';
import { coordinatorOf } from '@stockmesh/contracts';
import { RegionCaller } from '@stockmesh/http';
import { LeaderLock, ShardDatabases } from '@stockmesh/persistence';
import { HoldService, type HoldRecord } from '@stockmesh/stock';
import { HOLD_VERDICTS, ownerReleases, type HoldVerdict } from './hold-verdict.js';
import { MAX_AUDITED_HOLDS } from './hold-verdicts.internal.controller.js';
import { HoldVerdicts } from './hold-verdicts.service.js';

/** How long the owner waits for a coordinator's verdicts before it leaves that coordinator's holds for the next pass. */
const REMOTE_TIMEOUT_MS = 5_000;

/** What one audit pass found, over every database of this region. */
export interface HoldAuditReport {
  readonly at: string;
  /** Held holds old enough to be asked about. */
  readonly checked: number;
  /** Released because their coordinator no longer wants them (`ended`) or does not know them (`unknown`). */
  readonly released: number;
  /** Left held although their coordinator counts them committed or lost: a restored database; see the log. */
  readonly anomalies: number;
  /** Not asked about because their coordinator did not answer; asked again next pass. */
  readonly unanswered: number;
}

/**
 * The owner's periodic check of its held holds with their coordinators: coordinator and owner
 * reconcile their views long before a forgotten hold's expiry (which can be a day away). Each
 * pass pages through the holds still held that were placed more than
 * STOCKMESH_HOLD_AUDIT_MIN_AGE_SECONDS ago, asks each hold's coordinator (itself, in process, or
 * another region's internal API) what its reservation says of it, and releases the holds nobody
 * wants any more. A coordinator records an allocation before it places the hold, and never wants a
 * hold back once it has let it go, so a verdict to release cannot race a reservation that still
 * needs the hold. No transaction is open during a remote call; a coordinator that does not answer
 * just leaves its holds for the next pass (the owner's expiry remains the backstop).
 */
@Injectable()
export class HoldAuditor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HoldAuditor.name);
  private readonly task: RepeatingTask;
  private readonly leadership: LeaderLock;
  private last?: HoldAuditReport;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly holds: HoldService,
    private readonly verdicts: HoldVerdicts,
    private readonly regions: RegionCaller,
    private readonly clock: Clock,
  ) {
    this.leadership = databases.leaderLock('hold audit');
    this.task = new RepeatingTask(
      () => this.auditIfLeader(),
      this.config.holds.auditMs,
      (error) => this.logger.warn({ msg: 'hold audit failed; retrying', err: error.message }),
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
    await this.leadership.release();
  }

  /**
   * A pass, by one instance of the region only (the holder of the job's LeaderLock). Several
   * auditing at once would be correct (a release is conditional, so each hold ends once) but
   * would ask every coordinator about the same holds once per instance, and SKIP LOCKED cannot
   * share the work: nothing is locked while the coordinators are asked.
   */
  private async auditIfLeader(): Promise<void> {
    if (await this.leadership.lead()) await this.audit();
  }

  /** The last pass's report, if one ran. */
  lastReport(): HoldAuditReport | undefined {
    return this.last;
  }

  /** One pass over every database of the region. */
  async audit(): Promise<HoldAuditReport> {
    const now = this.clock.now();
    const placedBefore = new Date(now - this.config.holds.auditMinAgeMs);
    const counts = { checked: 0, released: 0, anomalies: 0, unanswered: 0 };
    for (const db of this.databases.all()) {
      let after = '';
      for (;;) {
        const page = await this.holds.listHeld(db, placedBefore, after, MAX_AUDITED_HOLDS);
        counts.checked += page.length;
        for (const [coordinator, holds] of groupBy(page, (h) => coordinatorOf(h.reservationId))) {
          const verdicts = await this.ask(coordinator, holds);
          if (!verdicts) {
            counts.unanswered += holds.length;
            continue;
          }
          for (const hold of holds) {
            const verdict = verdicts[hold.id];
            if (verdict !== undefined && ownerReleases(verdict)) {
              if (await this.holds.releaseOrphan(hold)) {
                counts.released++;
                this.logger.warn({ msg: 'released a hold its coordinator no longer wants', verdict, ...describe(hold) });
              }
            } else if (verdict === 'anomaly') {
              counts.anomalies++;
              this.logger.error({ msg: 'a hold is held here but committed or lost at its coordinator; left held', ...describe(hold) });
            }
          }
        }
        if (page.length < MAX_AUDITED_HOLDS || this.task.isStopped) break;
        after = page[page.length - 1]!.id;
      }
    }
    this.last = { at: new Date(now).toISOString(), ...counts };
    return this.last;
  }

  /** The coordinator's verdicts on `holds`, or `undefined` when it gave none. */
  private async ask(coordinator: string, holds: readonly HoldRecord[]): Promise<Record<string, HoldVerdict> | undefined> {
    const holdIds = holds.map((h) => h.id);
    if (coordinator === this.config.region.id) return this.verdicts.judge(holdIds);
    if (!this.config.cluster.regions.some((r) => r.id === coordinator)) {
      // A retired region: it will never finish these holds, and the expiry will release them.
      this.logger.warn({ msg: 'held holds of a region that is not in the cluster; their expiry will release them', coordinator });
      return undefined;
    }
    const answer = await this.regions.call(coordinator, 'POST', '/internal/v1/hold-verdicts', { holdIds }, REMOTE_TIMEOUT_MS);
    const verdicts = answer.kind === 'answered' && answer.status === 200 ? (answer.body as { verdicts?: unknown }).verdicts : undefined;
    if (!isVerdicts(verdicts, holdIds)) {
      this.logger.warn({
        msg: 'a coordinator gave no verdicts on its held holds; asking again next pass',
        coordinator,
        reason: answer.kind === 'unavailable' ? answer.reason : `answered ${answer.status}`,
      });
      return undefined;
    }
    return verdicts;
  }
}

function isVerdicts(value: unknown, holdIds: readonly string[]): value is Record<string, HoldVerdict> {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return holdIds.every((id) => HOLD_VERDICTS.includes(record[id] as HoldVerdict));
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

function describe(hold: HoldRecord): Record<string, unknown> {
  return { holdId: hold.id, reservationId: hold.reservationId, warehouseId: hold.warehouseId, sku: hold.sku, quantity: hold.quantity };
}
