import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { IdempotencyRepository } from './idempotency.repository.js';
import { RetentionSweeper } from './retention-sweeper.service.js';
import { ShardMoveRecovery } from './shard-moves/shard-move-recovery.service.js';
import { ShardDatabases } from './shard-databases.service.js';

/** The region's shard databases, the idempotency store and the retention sweeper, for every module. */
@Global()
@Module({
  providers: [ShardDatabases, IdempotencyRepository, RetentionSweeper, ShardMoveRecovery],
  exports: [ShardDatabases, IdempotencyRepository, RetentionSweeper],
})
export class PersistenceModule implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionSweeper,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  onModuleInit(): void {
    // Keys live in every database: each is stored next to the change it guards.
    this.retention.register({
      name: 'idempotency_keys',
      databases: 'all',
      retentionMs: this.config.retention.idempotencyMs,
      prune: (tx, cutoff, limit) => this.idempotency.pruneExpired(tx, cutoff, limit),
    });
  }
}
