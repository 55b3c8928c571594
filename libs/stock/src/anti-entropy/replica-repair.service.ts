import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { ShardDatabases, type SqlTx } from '@stockmesh/persistence';
import { ReplicaGaps, StockStateReader, type StateRow } from '@stockmesh/replication';
import type { ShardDatabase } from '@stockmesh/sharding';
import { setTimeout as pause } from 'node:timers/promises';
import {
  backorderedOf,
  incomingOf,
  safetyStockOf,
  sameIncoming,
  StockReplicaRepository,
  type ReplicaRowState,
} from '../stock-replica.repository.js';
import type { StockKey } from '../stock.repository.js';
import { ALL_BUCKETS, bucketOf } from './bucket-digest.js';
import { ReplicaChecks } from './replica-checks.js';

/** What to repair in one shard: per source region, the buckets; `gap` when the live topic lost records. */
interface ShardRepair {
  readonly regions: Map<string, Set<number>>;
  gap: boolean;
}

/** Why a repair runs, for its log lines. */
type RepairCause = 'digest' | 'gap' | 'rebuild';

/** What one repair did. */
export interface RepairReport {
  /** The owners' rows read from the state topic (of the regions and buckets repaired). */
  readonly rowsRead: number;
  /** Replica rows inserted, replaced or deleted. */
  readonly rowsRepaired: number;
}

/** What a rebuild on request did. */
export interface RebuildReport extends RepairReport {
  readonly regions: readonly string[];
  readonly shards: number;
  readonly ms: number;
}

const RETRY_MS = 1_000;

/**
 * Repairs replica rows from their owners' truth: the compacted state topic, which holds the
 * latest published state of every row. Chosen over a range read from the owner because it needs
 * the owner to be neither up nor reachable, costs the owner nothing, and is the same source the
 * rebuild trusts. Requests are merged per shard and served together, one read of the state
 * topic's partitions for all of them.
 *
 * Never moves a row backwards: the repair takes the database's clock (T) before it reads the
 * state topic. A replica row applied before T came from an event that was on the live topic
 * before T, so on the state topic before T (the relay writes it there first), so the read has
 * that version or a later one: a settled row that differs from the read is wrong and is
 * replaced (a higher version too) or deleted (the owner has no such row). A row applied after T
 * may be newer than the read; it only ever moves forward, and the next digest checks it again.
 */
@Injectable()
export class ReplicaRepairService implements OnModuleInit, OnApplicationShutdown {
  /** The rebuild running or last run (see `rebuild`). */
  private rebuilding: Promise<unknown> = Promise.resolve();
  private readonly logger = new Logger(ReplicaRepairService.name);
  private readonly abort = new AbortController();
  private readonly pending = new Map<number, ShardRepair>();
  private running?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly replicas: StockReplicaRepository,
    private readonly reader: StockStateReader,
    private readonly gaps: ReplicaGaps,
    private readonly checks: ReplicaChecks,
  ) {}

  onModuleInit(): void {
    this.gaps.onGap(({ partition }) => {
      const others = this.config.cluster.regions.map((r) => r.id).filter((id) => id !== this.config.region.id);
      for (const region of others) this.request(partition, region, ALL_BUCKETS, true);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  /** Queues a repair of `region`'s rows of the shard in the buckets; returns at once. */
  request(shard: number, region: string, buckets: readonly number[], gap = false): void {
    const repair = this.pending.get(shard) ?? { regions: new Map<string, Set<number>>(), gap: false };
    const set = repair.regions.get(region) ?? new Set<number>();
    for (const b of buckets) set.add(b);
    repair.regions.set(region, set);
    repair.gap ||= gap;
    this.pending.set(shard, repair);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.abort.signal.aborted) return;
    // Started after the current task, so that requests made together (a gap names every
    // region) are served by one read of the state topic.
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => {
        this.running = undefined;
        if (this.pending.size > 0) this.kick();
      });
  }

  private async drain(): Promise<void> {
    const signal = this.abort.signal;
    while (this.pending.size > 0 && !signal.aborted) {
      const work = new Map(this.pending);
      this.pending.clear();
      try {
        await this.repair(work, signal);
      } catch (error) {
        this.logger.warn({ msg: 'repairing replicas failed; retrying', shards: [...work.keys()], err: (error as Error).message });
        for (const [shard, repair] of work)
          for (const [region, buckets] of repair.regions) this.request(shard, region, [...buckets], repair.gap);
        await pause(RETRY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /**
   * Rebuilds every replica row of the regions, in every shard, now: the whole state topic is read
   * and every row compared with it, as a repair of every bucket (see the class comment for why
   * this is safe while the replicator applies: a row applied after the repair began is never
   * moved back). Rows the owner does not have are deleted, missing ones inserted, wrong ones
   * replaced. Runs beside the queued repairs; each locks the rows it changes. One rebuild at a
   * time per process: it holds the state topic's rows of the regions in memory, so a second one
   * asked meanwhile waits for the first to end rather than doubling that.
   */
  rebuild(regions: readonly string[]): Promise<RebuildReport> {
    const turn = this.rebuilding.catch(() => undefined).then(() => this.rebuildNow(regions));
    this.rebuilding = turn;
    return turn;
  }

  private async rebuildNow(regions: readonly string[]): Promise<RebuildReport> {
    const started = Date.now();
    const work = new Map<number, ShardRepair>();
    for (let shard = 0; shard < this.config.cluster.shardCount; shard++) {
      work.set(shard, { regions: new Map(regions.map((r) => [r, new Set(ALL_BUCKETS)])), gap: false });
    }
    const report = await this.repair(work, this.abort.signal, 'rebuild');
    if (this.abort.signal.aborted) throw new Error('the region is shutting down: the rebuild stopped');
    return { regions, shards: work.size, ...report, ms: Date.now() - started };
  }

  private async repair(work: ReadonlyMap<number, ShardRepair>, signal: AbortSignal, cause?: RepairCause): Promise<RepairReport> {
    const started = Date.now();
    // The clock of each database involved, before the state topic is read (see the class comment).
    const starts = new Map<string, string>();
    for (const shard of work.keys()) {
      const db = this.databases.databaseFor(shard);
      if (!starts.has(db.name)) starts.set(db.name, await this.databases.read(db, (tx) => this.replicas.clock(tx)));
    }
    const wanted = (row: { shard: number; region: string; warehouseId: string; sku: string }): boolean =>
      work.get(row.shard)?.regions.get(row.region)?.has(bucketOf(row.warehouseId, row.sku)) ?? false;
    const truth = await this.reader.read([...work.keys()], wanted, signal);
    // Aborted (shutting down): what was read may be partial, and must not be taken for the truth.
    if (signal.aborted) return { rowsRead: 0, rowsRepaired: 0 };
    let rowsRead = 0;
    let rowsRepaired = 0;
    for (const [shard, repair] of work) {
      const db: ShardDatabase = this.databases.databaseFor(shard);
      const start = starts.get(db.name) as string;
      for (const [region, buckets] of repair.regions) {
        const owned = [...(truth.get(shard)?.values() ?? [])].filter((r) => r.data.region === region);
        const rows = await this.databases.inShard(shard, (tx) =>
          this.repairBuckets(tx, { shard, region, buckets: [...buckets], owned, start, cause: cause ?? (repair.gap ? 'gap' : 'digest') }),
        );
        rowsRead += owned.length;
        rowsRepaired += rows;
        this.checks.repaired(region, rows);
        if (repair.gap) this.checks.gapRepaired(region);
      }
    }
    this.logger.log({ msg: 'replica repair finished', cause, shards: [...work.keys()], rowsRead, rowsRepaired, ms: Date.now() - started });
    return { rowsRead, rowsRepaired };
  }

  /** One region's buckets of one shard, in one transaction; resolves the rows changed. */
  private async repairBuckets(
    tx: SqlTx,
    job: {
      shard: number;
      region: string;
      buckets: number[];
      owned: readonly StateRow[];
      start: string;
      cause: RepairCause;
    },
  ): Promise<number> {
    const { shard, region } = job;
    const held = await this.replicas.lockBuckets(tx, shard, region, job.buckets, job.start);
    const heldByKey = new Map(held.map((r) => [`${r.warehouseId}/${r.sku}`, r]));
    const ownedKeys = new Set(job.owned.map((r) => `${r.data.warehouseId}/${r.data.sku}`));
    const log = (action: string, key: StockKey, replica: ReplicaRowState | undefined, owner: StateRow | undefined): void =>
      this.logger.warn({
        msg: 'replica row repaired',
        action,
        cause: job.cause,
        source: region,
        shard,
        bucket: bucketOf(key.warehouseId, key.sku),
        warehouseId: key.warehouseId,
        sku: key.sku,
        replica: replica
          ? {
              version: replica.version,
              onHand: replica.onHand,
              reserved: replica.reserved,
              safetyStock: replica.safetyStock,
              incoming: replica.incoming.length,
              backordered: replica.backordered,
            }
          : null,
        owner: owner
          ? {
              version: owner.data.version,
              onHand: owner.data.onHand,
              reserved: owner.data.reserved,
              safetyStock: safetyStockOf(owner.data),
              incoming: incomingOf(owner.data).length,
              backordered: backorderedOf(owner.data),
            }
          : null,
      });
    let changed = 0;
    // Rows the owner does not have, unless applied after the repair began (the read may predate them).
    const extra = held.filter((r) => r.settled && !ownedKeys.has(`${r.warehouseId}/${r.sku}`));
    for (const row of extra) log('deleted', row, row, undefined);
    if (extra.length > 0) await this.replicas.remove(tx, shard, extra);
    changed += extra.length;
    for (const owner of job.owned) {
      const replica = heldByKey.get(`${owner.data.warehouseId}/${owner.data.sku}`);
      if (!replica) {
        // Missing here (or inserted by the replicator since the lock: then only a newer version wins).
        if (await this.replicas.apply(tx, owner.data, owner.eventId)) {
          log('inserted', owner.data, undefined, owner);
          changed++;
        }
        continue;
      }
      const same =
        replica.version === owner.data.version &&
        replica.onHand === owner.data.onHand &&
        replica.reserved === owner.data.reserved &&
        replica.safetyStock === safetyStockOf(owner.data) &&
        sameIncoming(replica.incoming, incomingOf(owner.data)) &&
        replica.backordered === backorderedOf(owner.data);
      if (same || (!replica.settled && replica.version > owner.data.version)) continue;
      log('replaced', replica, replica, owner);
      await this.replicas.overwrite(tx, shard, owner.data, owner.eventId);
      changed++;
    }
    return changed;
  }
}
