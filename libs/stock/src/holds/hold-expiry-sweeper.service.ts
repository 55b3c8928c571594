import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, RepeatingTask } from '@stockmesh/config';
import { ShardDatabases } from '@stockmesh/persistence';
import { HoldService } from './hold.service.js';

/** Holds released per transaction: bounds how long one sweep transaction keeps rows locked. */
const BATCH = 100;

/**
 * The owner's own end for holds nobody finishes: a hold still held longer than the grace period
 * (STOCKMESH_HOLD_GRACE_SECONDS) past its expiry is released, as if its coordinator had asked.
 * Its coordinator lost track of it (a restored database, a retired region, a release that never
 * arrived); a live coordinator renews its holds or finishes them long before. Every instance of
 * the region runs one on every database it serves; SKIP LOCKED shares the work between them.
 */
@Injectable()
export class HoldExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HoldExpirySweeper.name);
  private readonly task: RepeatingTask;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly holds: HoldService,
    private readonly clock: Clock,
  ) {
    this.task = new RepeatingTask(
      () => this.sweep(),
      this.config.holds.sweepMs,
      (error) => this.logger.warn({ msg: 'hold expiry sweep failed; retrying', err: error.message }),
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One pass over every database of the region; returns the ids of the holds it released. */
  async sweep(): Promise<string[]> {
    const released: string[] = [];
    for (const db of this.databases.all()) {
      for (;;) {
        const batch = await this.holds.releaseExpired(db, this.clock.now(), BATCH);
        released.push(...batch.map((h) => h.id));
        if (batch.length < BATCH || this.task.isStopped) break;
      }
    }
    if (released.length > 0)
      this.logger.warn({
        msg: 'released holds past their expiry and grace period; their coordinators never finished them',
        holds: released,
      });
    return released;
  }
}
