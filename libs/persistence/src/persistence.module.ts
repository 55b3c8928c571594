import { Global, Module } from '@nestjs/common';
import { IdempotencyRepository } from './idempotency.repository.js';
import { ShardDatabases } from './shard-databases.service.js';

/** The region's shard databases and the idempotency store, for every module. */
@Global()
@Module({ providers: [ShardDatabases, IdempotencyRepository], exports: [ShardDatabases, IdempotencyRepository] })
export class PersistenceModule {}
