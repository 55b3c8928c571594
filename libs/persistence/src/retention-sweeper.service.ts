import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, RepeatingTask } from '@stockmesh/config';
import type { ShardDatabase } from '@stockmesh/sharding';
import { ShardDatabases } from './shard-databases.service.js';
import type { SqlTx } from './sql-tx.js';

/** Rows one transaction deletes at most: keeps every lock short and every transaction small. */
export const RETENTION_BATCH = 1_000;
/** Batches per rule and database in one pass: bounds a pass; what is left waits for the next one. */
const BATCHES_PER_PASS = 50;
/** Longest wait for a lock in a retention batch: it gives way to live traffic rather than queue behind it. */
const LOCK_TIMEOUT = '1s';

/** One kind of finished row and how it leaves once it is older than its retention. */
export interface RetentionRule {
  /** The table (or tables) it prunes, for logs and reports, e.g. `holds`. */
  readonly name: string;
  /** Where the rows live: only in the region's home database, or in every database of the region. */
  readonly databases: 'home' | 'all';
  readonly retentionMs: number;
  /**
   * Deletes up to `limit` finished rows that ended before `cutoff`, oldest first, through an
   * index that holds finished rows only (never scanning open work), skipping locked rows; returns
   * how many it deleted. Open rows must never match, whatever their age.
   */
  readonly prune: (tx: SqlTx, cutoff: Date, limit: number) => Promise<number>;
}

/**
 * Deletes finished rows past their retention (docs/configuration.md#retention), in the background
 * and in small batches. Modules register what their tables keep; this runs them all. Every
 * instance of a region runs one, but a batch runs only under a transaction-scoped advisory lock
 * per database and rule, so one instance at a time prunes a table of a database, and a busy one
 * costs others nothing but a skipped turn.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionSweeper.name);
  private readonly task: RepeatingTask;
  private readonly rules: RetentionRule[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly clock: Clock,
  ) {
    this.task = new RepeatingTask(
      () => this.sweep(),
      this.config.retention.sweepMs,
      (error) => this.logger.warn({ msg: 'retention sweep failed; retrying', err: error.message }),
    );
  }

  /** Adds a kind of row to prune; modules call it while they initialize. */
  register(rule: RetentionRule): void {
    if (this.rules.some((r) => r.name === rule.name)) throw new Error(`retention rule ${rule.name} is registered twice`);
    this.rules.push(rule);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One pass over every rule and database; returns the rows deleted per rule (for tests and logs). */
  async sweep(): Promise<Record<string, number>> {
    const now = this.clock.now();
    const deleted: Record<string, number> = {};
    for (const rule of this.rules) {
      deleted[rule.name] = 0;
      const cutoff = new Date(now - rule.retentionMs);
      const where = rule.databases === 'home' ? [this.databases.home()] : this.databases.all();
      for (const db of where) deleted[rule.name] += await this.pruneIn(db, rule, cutoff);
    }
    const total = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (total > 0) this.logger.log({ msg: 'deleted finished rows past their retention', deleted });
    return deleted;
  }

  private async pruneIn(db: ShardDatabase, rule: RetentionRule, cutoff: Date): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < BATCHES_PER_PASS && !this.task.isStopped; batch++) {
      const deleted = await this.databases.inDatabase(db, async (tx) => {
        const [lock] = await tx.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_xact_lock(hashtext('stockmesh retention'), hashtext($1)) AS locked`,
          [rule.name],
        );
        // Another instance prunes this table of this database right now: its turn, not ours.
        if (!lock?.locked) return undefined;
        await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        return rule.prune(tx, cutoff, RETENTION_BATCH);
      });
      if (deleted === undefined) break;
      total += deleted;
      if (deleted < RETENTION_BATCH) break;
    }
    return total;
  }
}
