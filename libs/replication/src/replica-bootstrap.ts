import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { ShardDatabases } from '@stockmesh/persistence';
import type { ShardDatabase } from '@stockmesh/sharding';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { replicatedTopics } from './replicated-topics.js';

/**
 * Where a region's replicas of the other regions stand at start:
 * - `checking`: not known yet whether every shard has a stored position;
 * - `rebuilding`: some shards had none (a region joining the cluster, or one whose databases were
 *   wiped or restored): their rows are being read from the compacted state topic;
 * - `catching-up`: rebuilt; the replicated topics are being applied up to the end offsets they had
 *   once the rebuild was done;
 * - `complete`: every shard had a position at start and no bootstrap was left open (the replicas
 *   are as fresh as replication makes them), or the catch-up reached those offsets. Never left
 *   once reached; the home database's `replica_bootstrap` row records it for every instance and
 *   every restart.
 */
export type BootstrapPhase = 'checking' | 'rebuilding' | 'catching-up' | 'complete';

/** The bootstrap's phase and, while catching up, how many partitions are still short of their mark. */
export interface BootstrapStatus {
  readonly phase: BootstrapPhase;
  readonly partitionsBehind?: number;
}

/** The end offsets to reach: topic → partition → offset. */
export type EndOffsets = ReadonlyMap<string, ReadonlyMap<number, bigint>>;

/**
 * Whether this region may say it is ready (`/health/ready`): a region that starts without replicas
 * must not take traffic until it holds every other region's rows, or it would answer availability
 * with nothing and place holds on a catalog it does not have. A region that had its replicas keeps
 * serving through a broker outage at start, as before: it is `complete` as soon as its databases
 * say every shard has a position.
 *
 * The catch-up is judged on the positions stored in the region's databases, so it holds whichever
 * instance of the region applies which partitions.
 */
@Injectable()
export class ReplicaBootstrap {
  private phase: BootstrapPhase = 'checking';
  private marks?: EndOffsets;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly positions: ConsumerPositionsRepository,
  ) {}

  /** Replication is off: nothing to wait for. */
  complete(): void {
    this.phase = 'complete';
    this.marks = undefined;
  }

  /**
   * Decides at start whether the region bootstraps: some shard has no stored position
   * (`missingShards`), or a bootstrap begun earlier was not completed (a restart after the rebuild
   * stored the positions, before the catch-up ended). A new bootstrap is recorded as open in the
   * home database before the rebuild stores any position. Resolves whether the region bootstraps.
   */
  async begin(missingShards: readonly number[]): Promise<boolean> {
    const home = this.databases.home();
    if (missingShards.length > 0) {
      await this.databases.inDatabase(home, (tx) =>
        tx.query(
          `INSERT INTO replica_bootstrap (id, started_at, completed_at) VALUES (1, now(), NULL)
           ON CONFLICT (id) DO UPDATE SET started_at = now(), completed_at = NULL`,
        ),
      );
    } else {
      const [open] = await this.databases.read(home, (tx) =>
        tx.query(`SELECT 1 FROM replica_bootstrap WHERE id = 1 AND completed_at IS NULL`),
      );
      if (!open) {
        this.complete();
        return false;
      }
    }
    if (this.phase !== 'complete') this.phase = 'rebuilding';
    return true;
  }

  /** Rebuilt: ready once the stored positions reach `ends` (partitions with no record need nothing). */
  catchUpTo(ends: EndOffsets): void {
    if (this.phase === 'complete') return;
    this.marks = ends;
    this.phase = 'catching-up';
  }

  /** The phase now; while catching up, reads the stored positions and moves to `complete` once they reach the marks. */
  async status(): Promise<BootstrapStatus> {
    if (this.phase !== 'catching-up' || !this.marks) return { phase: this.phase };
    const behind = await this.partitionsBehind(this.marks);
    if (behind === 0) {
      await this.databases.inDatabase(this.databases.home(), (tx) =>
        tx.query(`UPDATE replica_bootstrap SET completed_at = now() WHERE id = 1 AND completed_at IS NULL`),
      );
      this.complete();
    }
    return behind === 0 ? { phase: this.phase } : { phase: this.phase, partitionsBehind: behind };
  }

  private async partitionsBehind(marks: EndOffsets): Promise<number> {
    let behind = 0;
    for (const route of replicatedTopics(this.config)) {
      const ends = marks.get(route.topic);
      if (!ends) continue;
      // One read per database: the partitions of a topic are spread over the shard databases.
      const byDatabase = new Map<ShardDatabase, [number, bigint][]>();
      for (const [partition, end] of ends) {
        if (end === 0n) continue;
        const db = route.database(partition);
        byDatabase.set(db, [...(byDatabase.get(db) ?? []), [partition, end]]);
      }
      for (const [db, wanted] of byDatabase) {
        const stored = await this.databases.read(db, (tx) => this.positions.all(tx, route.topic));
        behind += wanted.filter(([partition, end]) => (stored.get(partition) ?? 0n) < end).length;
      }
    }
    return behind;
  }
}
