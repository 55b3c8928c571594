import type { ShardDatabase } from '@stockmesh/sharding';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

/** Name of TypeORM's bookkeeping table, so it cannot clash with a table of ours. */
export const MIGRATIONS_TABLE = 'stockmesh_migrations';

/**
 * A TypeORM DataSource for one physical database. The schema comes from migrations only:
 * `synchronize` stays off.
 */
export function createDataSource(
  db: Pick<ShardDatabase, 'name' | 'url'>,
  options: { poolSize?: number; applicationName?: string } = {},
): DataSource {
  return new DataSource({
    type: 'postgres',
    url: db.url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? `stockmesh ${db.name}`,
    // How long a request may wait for a free pooled connection (a hot row queues its writers).
    extra: { connectionTimeoutMillis: 10_000 },
    logging: false,
  });
}
