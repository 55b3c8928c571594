import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import type { ShardDatabase } from '@stockmesh/sharding';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { LeaderLock } from './leader-lock.js';
import { forgetPreparedStatements, isStalePreparedStatement, PreparedStatements, sqlStateOf, sqlTx, type SqlTx } from './sql-tx.js';

/** A database's connection pool at one moment. */
export interface PoolStats {
  readonly database: string;
  /** Connections open, busy or idle. */
  readonly total: number;
  readonly idle: number;
  /** Requests waiting for a connection (the pool is at its size). */
  readonly waiting: number;
}

/** How a transaction starts. */
export interface TransactionOptions {
  /**
   * Bounds every wait of the transaction: a lock not granted (or a statement not done) within
   * this many milliseconds fails it with 55P03 or 57014, instead of it hanging behind whatever
   * holds the row.
   */
  readonly lockTimeoutMs?: number;
}

/**
 * How often each instance reads the shard map's version from the home database. A move keeps the
 * moved shards paused for a few of these after it switches the map (`ShardMover`), so that every
 * live instance routes by the new map before anything is written where the shards now live.
 */
export const SHARD_MAP_POLL_MS = 150;

/** How long `inShard` keeps retrying a write a shard move has paused, before it gives up. */
const FENCED_RETRY_MS = 5_000;

/** True for the error of a write to a shard its database no longer takes (paused or moved: SQLSTATE SMF01). */
export function isShardFenced(error: unknown): boolean {
  return sqlStateOf(error) === 'SMF01';
}

/** The `BEGIN` of a transaction with `options`, as one simple query. */
function beginStatement(options: TransactionOptions = {}): string {
  const { lockTimeoutMs } = options;
  if (lockTimeoutMs === undefined) return 'START TRANSACTION';
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs <= 0)
    throw new RangeError(`lockTimeoutMs must be a positive integer, got ${lockTimeoutMs}`);
  return `START TRANSACTION; SET LOCAL lock_timeout = '${lockTimeoutMs}ms'; SET LOCAL statement_timeout = '${lockTimeoutMs}ms'`;
}

/**
 * The region's physical databases, one connection pool each, and the only way code reaches them:
 * every transaction is opened on the database that hosts a given logical shard, so one write
 * touches exactly one database.
 */
@Injectable()
export class ShardDatabases implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ShardDatabases.name);
  private readonly sources = new Map<string, DataSource>();
  /** The names of the region's prepared statements, shared by its databases' connections (unless turned off). */
  private readonly statements: PreparedStatements | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** The map read running now, and the one queued to start after it (shared by every caller meanwhile). */
  private reading: Promise<boolean> | undefined;
  private queued: Promise<boolean> | undefined;
  /**
   * The map is read on a connection of its own, never behind the pool's queue: under load, a read
   * waiting for a pooled connection would leave this instance routing by an old map for longer
   * than a move waits for instances to read the new one.
   */
  private mapClient: pg.Client | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.statements = config.db.preparedStatements ? new PreparedStatements() : undefined;
    for (const db of config.shardMap.databases) {
      this.sources.set(
        db.name,
        createDataSource(db, { poolSize: config.db.poolSize, applicationName: `stockmesh ${config.region.id} ${db.name}` }),
      );
    }
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.initialize()));
    this.logger.log(`connected to ${this.sources.size} shard databases`);
    await this.refreshMap().catch((error: Error) => this.logger.warn({ msg: 'could not read the shard map', err: error.message }));
    this.poll = setInterval(() => {
      this.refreshMap().catch((error: Error) => this.logger.warn({ msg: 'could not read the shard map', err: error.message }));
    }, SHARD_MAP_POLL_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.poll);
    await this.queued?.catch(() => undefined);
    await this.reading?.catch(() => undefined);
    await this.mapClient?.end().catch(() => undefined);
    await Promise.all([...this.sources.values()].filter((s) => s.isInitialized).map((s) => s.destroy()));
  }

  /** The database hosting `shard`, by the newest shard map this instance has read. */
  databaseFor(shard: number): ShardDatabase {
    return this.config.shardMap.databaseFor(shard);
  }

  /** The cluster's number of logical shards. */
  get shardCount(): number {
    return this.config.shardMap.shardCount;
  }

  /** The database the cluster file puts `shard` in (where a move back returns it). */
  bootDatabaseFor(shard: number): ShardDatabase {
    return this.config.shardMap.bootDatabaseFor(shard);
  }

  /** The shards `db` hosts now, in order (none for a spare database). */
  shardsOf(db: ShardDatabase): number[] {
    return this.config.shardMap.shardsOf(db.name);
  }

  /**
   * Whether `db` hosts `shard` now. Reads that scan every database keep only such rows: a shard
   * being moved has a copy in its new database before the switch, and its old rows are deleted
   * just after.
   */
  hosts(db: ShardDatabase, shard: number): boolean {
    return this.databaseFor(shard).name === db.name;
  }

  /** The version of the shard map in force here (0 while no shard has moved). */
  get mapVersion(): number {
    return this.config.shardMap.version;
  }

  /**
   * Reads the shard map's version from the home database and, when it is newer than the one in
   * force, its overrides (one query when nothing changed); resolves to whether the map changed.
   * The read starts after this call (a read already running may have started before a switch the
   * caller knows of): callers meanwhile share it.
   */
  refreshMap(): Promise<boolean> {
    if (this.queued) return this.queued;
    const after = this.reading?.catch(() => false) ?? Promise.resolve(false);
    const queued = after.then(() => {
      this.queued = undefined;
      const reading = this.readMap().finally(() => {
        if (this.reading === reading) this.reading = undefined;
      });
      this.reading = reading;
      return reading;
    });
    this.queued = queued;
    return queued;
  }

  private async readMap(): Promise<boolean> {
    const map = this.config.shardMap;
    const [row] = await this.mapQuery<{ version: string }>('SELECT version::text AS version FROM shard_map_version');
    if (row === undefined || Number(row.version) <= map.version) return false;
    const rows = await this.mapQuery<{ version: string; shard: number | null; database: string | null }>(
      `SELECT v.version::text AS version, m.shard, m.database
         FROM shard_map_version v LEFT JOIN shard_map m ON true`,
    );
    const overrides = new Map<number, string>();
    for (const r of rows) if (r.shard !== null && r.database !== null) overrides.set(r.shard, r.database);
    const version = Number(rows[0]?.version ?? row.version);
    const changed = map.assign(version, overrides);
    if (changed) {
      this.logger.log({ msg: 'shard map changed', version, moved: Object.fromEntries(overrides) });
    }
    return changed;
  }

  private async mapQuery<R>(sql: string): Promise<R[]> {
    if (!this.mapClient) {
      const client = new pg.Client({
        connectionString: this.home().url,
        application_name: `stockmesh ${this.config.region.id} shard map`,
        connectionTimeoutMillis: 5_000,
      });
      // An error of an idle connection (the server restarted) must not crash the process: the
      // next read connects again.
      client.on('error', () => undefined);
      await client.connect();
      this.mapClient = client;
    }
    try {
      return (await this.mapClient.query(sql)).rows as R[];
    } catch (error) {
      await this.mapClient?.end().catch(() => undefined);
      this.mapClient = undefined;
      throw error;
    }
  }

  /** The region's home database (the one hosting shard 0): it holds region-wide tables such as the catalog. */
  home(): ShardDatabase {
    return this.config.shardMap.databaseFor(0);
  }

  /** The leadership of a periodic job among this region's instances, decided on its home database (see LeaderLock). */
  leaderLock(job: string): LeaderLock {
    return new LeaderLock(this.home().url, `${this.config.region.id} ${job}`);
  }

  all(): readonly ShardDatabase[] {
    return this.config.shardMap.databases;
  }

  /**
   * Runs `work` in one READ COMMITTED transaction on the database hosting `shard`. A transaction
   * a shard move refused (the shard is paused for its cutover, or has moved and this instance had
   * not read the new map yet) committed nothing: the map is read again and the work runs again
   * where the shard is now, for up to five seconds, then the error is thrown (a 503 `busy`).
   */
  async inShard<T>(shard: number, work: (tx: SqlTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const deadline = Date.now() + FENCED_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inDatabase(this.databaseFor(shard), work, options);
      } catch (error) {
        if (!isShardFenced(error) || Date.now() >= deadline) throw error;
        await this.refreshMap().catch(() => false);
        await new Promise((resolve) => setTimeout(resolve, Math.min(25 * attempt, SHARD_MAP_POLL_MS)));
      }
    }
  }

  /**
   * Runs `work` in one READ COMMITTED transaction on `db`; rolls back if `work` throws. A
   * transaction PostgreSQL aborted as a deadlock victim (40P01) or a serialization failure
   * (40001) is run again, up to three times: nothing of it was committed. `work` must therefore
   * keep side effects outside the database idempotent (holds and dead letters are).
   */
  async inDatabase<T>(db: ShardDatabase, work: (tx: SqlTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const begin = beginStatement(options);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(db, work, begin);
      } catch (error) {
        const code =
          (error as { code?: unknown; driverError?: { code?: unknown } }).driverError?.code ?? (error as { code?: unknown }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
      }
    }
  }

  private async once<T>(db: ShardDatabase, work: (tx: SqlTx) => Promise<T>, begin: string): Promise<T> {
    const runner = this.source(db).createQueryRunner();
    await runner.connect();
    try {
      for (let attempt = 1; ; attempt++) {
        // One round trip: PostgreSQL's default isolation is READ COMMITTED (naming it would cost a
        // SET), and the transaction's settings travel with its BEGIN (several statements in one
        // simple query, as a query without parameters is sent).
        await runner.query(begin);
        const committed: (() => void)[] = [];
        try {
          const result = await work(sqlTx(runner, db.name, committed, this.statements));
          await runner.query('COMMIT');
          for (const callback of committed) callback();
          return result;
        } catch (error) {
          // A ROLLBACK that fails (the connection is gone) must not hide why the work failed.
          await runner.query('ROLLBACK').catch(() => undefined);
          // Nothing was committed: on a connection whose prepared statements a migration made
          // stale, they are dropped and the work runs once more.
          if (attempt > 1 || !isStalePreparedStatement(error)) throw error;
          await forgetPreparedStatements(runner);
        }
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * Runs `work` on `db` outside any transaction: each statement commits by itself. For work whose
   * every write is one statement (atomic by itself), which a transaction would only make cost
   * its `BEGIN` and `COMMIT` round trips.
   */
  async autocommit<T>(db: ShardDatabase, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.outsideTransaction(db, 'master', work);
  }

  /** Runs read-only `work` on `db` without opening a transaction (each statement sees its own snapshot). */
  async read<T>(db: ShardDatabase, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.outsideTransaction(db, 'slave', work);
  }

  private async outsideTransaction<T>(db: ShardDatabase, mode: 'master' | 'slave', work: (tx: SqlTx) => Promise<T>): Promise<T> {
    const runner = this.source(db).createQueryRunner(mode);
    try {
      for (let attempt = 1; ; attempt++) {
        const done: (() => void)[] = [];
        try {
          const result = await work(sqlTx(runner, db.name, done, this.statements));
          for (const callback of done) callback();
          return result;
        } catch (error) {
          // A statement refused as stale did not run: see `once`. (Work outside a transaction
          // is reads, or writes of one statement each.)
          if (attempt > 1 || !isStalePreparedStatement(error)) throw error;
          await forgetPreparedStatements(runner);
        }
      }
    } finally {
      await runner.release();
    }
  }

  /** Checks every database answers; resolves to the names of those that do not. */
  async unreachable(timeoutMs = 2_000): Promise<string[]> {
    const results = await Promise.all(
      this.all().map(async (db) => {
        try {
          await Promise.race([
            this.source(db).query('SELECT 1'),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
          ]);
          return null;
        } catch {
          return db.name;
        }
      }),
    );
    return results.filter((name): name is string => name !== null);
  }

  /** The connections of each database's pool, as pg counts them (for metrics; no query). */
  poolStats(): PoolStats[] {
    return this.all().map((db) => {
      // TypeORM's Postgres driver keeps its pg.Pool as `master` (untyped); absent before initialize().
      const pool = (this.source(db).driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } })
        .master;
      return { database: db.name, total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
    });
  }

  private source(db: ShardDatabase): DataSource {
    const source = this.sources.get(db.name);
    if (!source) throw new RangeError(`no database named ${db.name} in this region`);
    return source;
  }
}
