// The chaos run's fault scheduler: one fault at a time, at seeded random moments, each undone
// (a killed region restarted, a paused one resumed) before the next. The faults are real: SIGKILL
// and SIGSTOP on the region processes, pg_terminate_backend on their databases, a broker restart
// (only of a broker the run owns), and direct damage to replica rows.
import { LocalClusterError, LocalClusterErrorCode, type LocalCluster } from '../cluster/local-cluster.js';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { FaultKind, FaultRecord } from './chaos-history.js';
import type { Random } from './chaos-random.js';

export const ALL_FAULTS: readonly FaultKind[] = ['kill', 'pg-terminate', 'pause', 'broker-restart', 'damage-replica'];

/** What the faults act on. */
export interface FaultTargets {
  readonly cluster: LocalCluster;
  /** Each region's database URLs. */
  readonly databases: ReadonlyMap<string, readonly string[]>;
  /** A connection to the PostgreSQL server as a superuser (to terminate other backends). */
  readonly adminUrl: string;
  /** Restarts the broker; absent when the run does not own it (the broker is then never touched). */
  readonly restartBroker?: () => Promise<void>;
}

export interface FaultSchedule {
  readonly faults: readonly FaultKind[];
  /** Quiet time between two faults, drawn uniformly. */
  readonly gapMs: readonly [number, number];
  /** How long a killed region stays down. */
  readonly downMs: readonly [number, number];
  /**
   * How long a paused region stays stopped: longer than a remote hold's 2 s timeout and, at the
   * top, than a saga's 15 s lease, so that both are passed while the region cannot answer.
   */
  readonly pauseMs: readonly [number, number];
}

export const DEFAULT_SCHEDULE: Omit<FaultSchedule, 'faults'> = { gapMs: [3_000, 9_000], downMs: [1_000, 6_000], pauseMs: [3_000, 18_000] };

/** The region process's pid: a child of this process whose environment names the region. */
export function regionPid(region: string): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`STOCKMESH_REGION=${region}`)) return Number(name);
    } catch {
      continue; // the process ended while we looked
    }
  }
  return undefined;
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Starts a region, trying again a few times: on a shared PostgreSQL server a restart can find no
 * free connection for a moment ("too many clients"), which is the machine's weather, not a fault
 * of the run's making. Returns how many attempts it took; throws the last error after `tries`.
 */
export async function startWithRetries(cluster: LocalCluster, region: string, tries = 5, gapMs = 3_000): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.startRegion(region);
      return attempt;
    } catch (error) {
      const running = error instanceof LocalClusterError && error.code === LocalClusterErrorCode.AlreadyRunning;
      if (running || attempt >= tries) throw error;
      await delay(gapMs);
    }
  }
}

const databaseName = (url: string): string => decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));

/** Runs faults until `signal` aborts; each fault in progress is undone before it returns. */
export async function runFaults(
  targets: FaultTargets,
  schedule: FaultSchedule,
  random: Random,
  record: (fault: Omit<FaultRecord, 'type' | 'seq'>) => void,
  signal: AbortSignal,
  log: (message: string) => void,
): Promise<void> {
  const regions = targets.cluster.regions.map((r) => r.id);
  const faults = schedule.faults.filter((f) => f !== 'broker-restart' || targets.restartBroker);
  if (faults.length === 0) return;
  for (;;) {
    try {
      await delay(random.between(...schedule.gapMs), undefined, { signal });
    } catch {
      return; // aborted: no fault is in progress
    }
    const fault = random.pick(faults);
    const region = random.pick(regions);
    const startedAt = Date.now();
    let detail: string;
    try {
      detail = await inject(fault, region);
    } catch (error) {
      // A fault that fails half-way (a restart that timed out) is recorded; the run restarts
      // whatever is down before it settles.
      detail = `failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    log(`fault ${fault} ${fault === 'broker-restart' ? 'broker' : region}: ${detail}`);
    record({ fault, target: fault === 'broker-restart' ? 'broker' : region, startedAt, endedAt: Date.now(), detail });
  }

  async function inject(fault: FaultKind, region: string): Promise<string> {
    switch (fault) {
      case 'kill': {
        const downMs = random.between(...schedule.downMs);
        await targets.cluster.killRegion(region);
        await delay(downMs);
        const attempts = await startWithRetries(targets.cluster, region);
        return `SIGKILL, down ${downMs} ms, restarted${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`;
      }
      case 'pause': {
        const pauseMs = random.between(...schedule.pauseMs);
        const pid = regionPid(region);
        if (pid === undefined) return 'no process found: skipped';
        process.kill(pid, 'SIGSTOP');
        try {
          await delay(pauseMs);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        return `SIGSTOP pid ${pid} for ${pauseMs} ms, SIGCONT`;
      }
      case 'pg-terminate': {
        const names = (targets.databases.get(region) ?? []).map(databaseName);
        // The OFFSET 0 subquery is a fence: SQL does not promise the order in which a WHERE
        // clause's conditions run, and pg_terminate_backend must only ever see pids of these
        // databases (other runs and tests share the server), never this connection itself.
        const ended = await withAdmin(
          targets.adminUrl,
          async (c) =>
            (
              await c.query<{ ended: boolean }>(
                `SELECT pg_terminate_backend(pid) AS ended
                   FROM (SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid() OFFSET 0) AS victims`,
                [names],
              )
            ).rows.filter((r) => r.ended).length,
        );
        return `pg_terminate_backend on ${names.join(', ')}: ${ended} connections`;
      }
      case 'broker-restart':
        await targets.restartBroker!();
        return 'broker stopped and started';
      case 'damage-replica': {
        const urls = targets.databases.get(region) ?? [];
        const url = random.pick(urls);
        return withAdmin(url, async (c) => {
          const count = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM stock_replica`)).rows[0].n;
          if (count === 0) return 'no replica rows yet: skipped';
          const offset = random.between(0, count - 1);
          const damaged = await c.query<{ warehouse_id: string; sku: string; on_hand: string }>(
            `UPDATE stock_replica SET on_hand = on_hand + 7
              WHERE (warehouse_id, sku) = (SELECT warehouse_id, sku FROM stock_replica ORDER BY warehouse_id, sku OFFSET $1 LIMIT 1)
              RETURNING warehouse_id, sku, on_hand`,
            [offset],
          );
          const row = damaged.rows[0];
          return row
            ? `replica ${row.warehouse_id}/${row.sku} in ${databaseName(url)}: on_hand +7 (now ${row.on_hand})`
            : 'row gone: skipped';
        });
      }
    }
  }
}
