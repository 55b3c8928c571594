import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock, RepeatingTask } from '@stockmesh/config';
import { problemBody } from '@stockmesh/http';
import { Metrics } from '@stockmesh/metrics';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReservationRepository } from './reservation.repository.js';
import { FINISH_BATCH, ReservationsService, type FinishReport } from './reservations.service.js';

const SWEEP_MS = 500;
/** Finishing batches one sweep runs at most, while owners answer: bounds a sweep's calls and time. */
const FINISH_BATCHES_PER_SWEEP = 5;

/** What one sweep did. */
export interface SweepReport extends FinishReport {
  readonly abandoned: number;
  readonly expired: number;
}

/**
 * The background half of reservations, run by every instance of the region (row locks with
 * SKIP LOCKED and claims share the work, and each status change happens once):
 * - fails sagas whose coordinator stopped renewing its lease (it crashed mid-saga);
 * - expires held reservations past `expiresAt`;
 * - carries decided reservations' open holds to their end at the owners, each allocation with
 *   its own backoff, so owners that are down cost one call per allocation per backoff and never
 *   hold up expiry and recovery: a sweep makes at most FINISH_BATCH x FINISH_BATCHES_PER_SWEEP
 *   calls.
 */
@Injectable()
export class ReservationSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReservationSweeper.name);
  private readonly task = new RepeatingTask(
    () => this.sweep(),
    SWEEP_MS,
    (error) => this.logger.warn({ msg: 'reservation sweep failed; retrying', err: error.message }),
  );

  constructor(
    private readonly databases: ShardDatabases,
    private readonly repository: ReservationRepository,
    private readonly reservations: ReservationsService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One pass; returns what it did (for tests and logs). */
  async sweep(): Promise<SweepReport> {
    const home = this.databases.home();
    const now = new Date(this.clock.now());
    const abandoned = await this.databases.inDatabase(home, (tx) =>
      this.repository.abandonStale(
        tx,
        now,
        problemBody('reservation-conflict', 'the region coordinating this reservation stopped before it was complete; nothing is held'),
        100,
      ),
    );
    this.metrics.reservation('abandoned', abandoned.length);
    if (abandoned.length > 0) this.logger.warn({ msg: 'abandoned reservations whose coordinator stopped', reservations: abandoned });
    const expired = await this.databases.inDatabase(home, (tx) => this.repository.expireDue(tx, now, 100));
    this.metrics.reservation('expired', expired.length);
    if (expired.length > 0) this.logger.log({ msg: 'expired reservations', reservations: expired });
    const total = { attempted: 0, finished: 0, retrying: 0, lost: 0 };
    for (let batch = 0; batch < FINISH_BATCHES_PER_SWEEP && !this.task.isStopped; batch++) {
      const report = await this.reservations.finish();
      for (const k of Object.keys(total) as (keyof FinishReport)[]) total[k] += report[k];
      // Another batch only while there is more and owners answer; the rest waits for its backoff.
      if (report.attempted < FINISH_BATCH || report.retrying > 0) break;
    }
    return { abandoned: abandoned.length, expired: expired.length, ...total };
  }
}
