import type { ShardDatabase } from '@stockmesh/sharding';
import pg from 'pg';
import { createDataSource } from './data-source.js';

/** Lock id taken while migrating one database, so concurrent provisioners take turns. */
const MIGRATION_LOCK = 0x73746f63; // "stoc"

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new RangeError(`connection string ${redact(url)} names no database`);
  return name;
}

/** The connection string without its password, for messages. */
export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Connects to the server's maintenance database `postgres` to create or drop another. */
async function withMaintenanceClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(url);
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the database `url` names unless it exists. Safe to run concurrently. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  return withMaintenanceClient(url, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database, or 23505 when two creators race on pg_database's unique index.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  });
}

/** Runs every pending migration on one database, under an advisory lock. Returns the names applied. */
export async function migrateDatabase(db: Pick<ShardDatabase, 'name' | 'url'>): Promise<string[]> {
  const source = createDataSource(db, { poolSize: 2, applicationName: `stockmesh provision ${db.name}` });
  await source.initialize();
  const lock = source.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await source.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
    await source.destroy();
  }
}

export interface ProvisionReport {
  readonly database: string;
  readonly created: boolean;
  readonly migrations: readonly string[];
}

/** Creates (if needed) and migrates each database. Idempotent: a second run changes nothing. */
export async function provisionDatabases(databases: readonly Pick<ShardDatabase, 'name' | 'url'>[]): Promise<ProvisionReport[]> {
  const reports: ProvisionReport[] = [];
  for (const db of databases) {
    const created = await ensureDatabase(db.url);
    const migrations = await migrateDatabase(db);
    reports.push({ database: db.name, created, migrations });
  }
  return reports;
}

/** Drops the databases (test clean-up); connections still open to them are terminated. */
export async function dropDatabases(urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    await withMaintenanceClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(databaseName(url))} WITH (FORCE)`));
  }
}
