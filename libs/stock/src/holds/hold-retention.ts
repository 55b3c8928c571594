import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { RetentionSweeper } from '@stockmesh/persistence';
import { HoldRepository } from './hold.repository.js';

/** Gives committed and released holds to the retention sweeper: they live next to their stock rows, in every database. */
@Injectable()
export class HoldRetention implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionSweeper,
    private readonly repository: HoldRepository,
  ) {}

  onModuleInit(): void {
    this.retention.register({
      name: 'holds',
      databases: 'all',
      retentionMs: this.config.retention.holdsMs,
      prune: (tx, cutoff, limit) => this.repository.pruneFinished(tx, cutoff, limit),
    });
  }
}
