import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { problemBody } from '@stockmesh/http';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReservationRepository } from './reservation.repository.js';
import { ReservationsService } from './reservations.service.js';

const SWEEP_MS = 500;

/**
 * The background half of reservations, run by every instance of the region (row locks with
 * SKIP LOCKED share the work, and each status change happens once):
 * - fails sagas whose coordinator stopped renewing its lease (it crashed mid-saga);
 * - expires held reservations past `expiresAt`;
 * - carries decided reservations' open holds to their end at the owners, retrying owners that
 *   were down.
 */
@Injectable()
export class ReservationSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReservationSweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly databases: ShardDatabases,
    private readonly repository: ReservationRepository,
    private readonly reservations: ReservationsService,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns what it did (for tests and logs). */
  async sweep(): Promise<{ abandoned: number; expired: number; finished: number }> {
    const home = this.databases.home();
    const abandoned = await this.databases.inDatabase(home, (tx) =>
      this.repository.abandonStale(
        tx,
        problemBody('reservation-conflict', 'the region coordinating this reservation stopped before it was complete; nothing is held'),
        100,
      ),
    );
    if (abandoned.length > 0) this.logger.warn({ msg: 'abandoned reservations whose coordinator stopped', reservations: abandoned });
    const expired = await this.databases.inDatabase(home, (tx) => this.repository.expireDue(tx, 100));
    if (expired.length > 0) this.logger.log({ msg: 'expired reservations', reservations: expired });
    let finished = 0;
    for (let batch = await this.reservations.finish(); batch > 0 && !this.stopped; batch = await this.reservations.finish()) {
      finished += batch;
      if (batch < 100) break;
    }
    return { abandoned: abandoned.length, expired: expired.length, finished };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ msg: 'reservation sweep failed; retrying', err: (error as Error).message }))
        .finally(() => this.schedule());
    }, SWEEP_MS);
    this.timer.unref();
  }
}
