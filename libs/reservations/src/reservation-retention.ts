import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { RetentionSweeper } from '@stockmesh/persistence';
import { ReservationRepository } from './reservation.repository.js';

/** Gives final reservations (and their allocations) to the retention sweeper: they live in the home database. */
@Injectable()
export class ReservationRetention implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionSweeper,
    private readonly repository: ReservationRepository,
  ) {}

  onModuleInit(): void {
    this.retention.register({
      name: 'reservations',
      databases: 'home',
      retentionMs: this.config.retention.reservationsMs,
      prune: (tx, cutoff, limit) => this.repository.pruneFinished(tx, cutoff, limit),
    });
  }
}
