export { createDataSource, MIGRATIONS_TABLE } from './data-source.js';
export {
  IdempotencyException,
  IdempotencyRepository,
  scopedKey,
  type IdempotencyClaim,
  type IdempotentAnswer,
  type IdempotentRequest,
} from './idempotency.repository.js';
export { LeaderLock } from './leader-lock.js';
export { MIGRATIONS } from './migrations/index.js';
export { PersistenceModule } from './persistence.module.js';
export { dropDatabases, ensureDatabase, migrateDatabase, provisionDatabases, redact, type ProvisionReport } from './provision.js';
export { RETENTION_BATCH, RetentionSweeper, type RetentionRule } from './retention-sweeper.service.js';
export { isShardFenced, SHARD_MAP_POLL_MS, ShardDatabases, type PoolStats, type TransactionOptions } from './shard-databases.service.js';
export { sqlStateOf, sqlTx, type SqlTx } from './sql-tx.js';
export { ShardMoveRecovery } from './shard-moves/shard-move-recovery.service.js';
export { OUTBOX_RELAY_LOCK, ShardMover, ShardMoveError, type MoveReport, type MoveRequest } from './shard-moves/shard-mover.js';
