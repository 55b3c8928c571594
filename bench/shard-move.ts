// `npm run bench:shard-move`: an online shard move under load. One region in-process (no Kafka)
// whose shards 8-15 live in us-east/1 on the machine's PostgreSQL moves them to a spare database
// on a second PostgreSQL server this benchmark starts (initdb, pg_ctl), then back, while
// `BENCH_CONCURRENCY` clients adjust stock over HTTP. Prints each move's copy rounds, rows, time
// and write pause beside the ceiling (the same rows through `psql \copy` from one server to the
// other), and what the clients saw: writes/s before and during the move, their slowest answer,
// and any failure. Asserts nothing.
//
//   BENCH_ROWS         stock rows of the region (default 200,000; half are in shards 8-15), each with one ledger row
//   BENCH_CONCURRENCY  clients writing meanwhile (default 16)

import 'reflect-metadata';
import { defaultCluster, loadAppConfig, withDatabase } from '@stockmesh/config';
import { dropDatabases, provisionDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { exec } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import pg from 'pg';
import { createRegionApp } from '../apps/region/src/region-app.js';
import { startPostgresServer } from '../infra/postgres/postgres-server.js';
import {
  BENCH_ADMIN_KEY,
  BENCH_AUTHORIZATION,
  grid,
  machine,
  ms,
  percentile,
  positiveInt,
  runMain,
  say,
  sayLoad,
  table,
} from './bench-support.js';

const SHARDS = 16;
const MOVED = [8, 9, 10, 11, 12, 13, 14, 15];
const WAREHOUSE = 'mv-1';

interface MoveReport {
  readonly from: string;
  readonly to: string;
  readonly rounds: number;
  readonly rowsCopied: number;
  readonly pauseMs: number;
  readonly ms: number;
}

/** Clients adjusting stock over HTTP, each answer timed; a 503 is asked again with the same key, as clients do. */
class Writers {
  readonly samples: { at: number; ms: number }[] = [];
  failures = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly url: string,
    private readonly skus: readonly string[],
    clients: number,
  ) {
    this.loops = Array.from({ length: clients }, (_, i) => this.loop(i));
  }

  private async loop(i: number): Promise<void> {
    for (let n = 0; this.running; n++) {
      const sku = this.skus[(i * 7919 + n * 104_729) % this.skus.length]!;
      const key = randomUUID();
      const t0 = performance.now();
      for (let attempt = 0; ; attempt++) {
        const response = await fetch(`${this.url}/v1/warehouses/${WAREHOUSE}/stock/${sku}/adjustments`, {
          method: 'POST',
          headers: { ...BENCH_AUTHORIZATION, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ delta: 1, reason: 'received' }),
        }).catch(() => undefined);
        await response?.arrayBuffer();
        if (response?.status === 201) break;
        if (attempt >= 20) {
          this.failures++;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      this.samples.push({ at: t0, ms: performance.now() - t0 });
    }
  }

  /** Answers per second and latencies of the writes begun within [from, to). */
  window(from: number, to: number): { perSecond: number; sorted: number[] } {
    const sorted = this.samples
      .filter((s) => s.at >= from && s.at < to)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    return { perSecond: sorted.length / ((to - from) / 1000), sorted };
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

async function main(): Promise<void> {
  const rows = positiveInt('BENCH_ROWS', 200_000);
  const clients = positiveInt('BENCH_CONCURRENCY', 16);
  sayLoad();
  say('starting a second PostgreSQL server (initdb, pg_ctl)');
  const second = await startPostgresServer();
  const prefix = `smmove_${randomBytes(3).toString('hex')}`;
  const base = defaultCluster({
    regions: ['us-east'],
    shardCount: SHARDS,
    databasesPerRegion: 2,
    host: '127.0.0.1',
    basePort: 3000,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    databasePrefix: prefix,
  });
  const east = base.regions[0]!;
  const cluster = {
    ...base,
    regions: [{ ...east, databases: [...east.databases, { name: 'us-east/2', url: withDatabase(second.url, `${prefix}_us_east_2`) }] }],
  };
  const folder = mkdtempSync(join(tmpdir(), 'stockmesh-bench-move-'));
  writeFileSync(join(folder, 'cluster.json'), JSON.stringify(cluster));
  const config = loadAppConfig({
    STOCKMESH_REGION: 'us-east',
    STOCKMESH_CLUSTER_FILE: join(folder, 'cluster.json'),
    LOG_LEVEL: 'warn',
    STOCKMESH_REPLICATION: 'false',
    STOCKMESH_ADMIN_KEY: BENCH_ADMIN_KEY,
    STOCKMESH_LIMITS_EXEMPT_ADMIN: 'true',
    STOCKMESH_CLUSTER_SECRET: randomBytes(32).toString('base64url'),
  });
  const databases = config.region.databases;
  const url = (name: string): string => databases.find((d) => d.name === name)!.url;
  await provisionDatabases(databases);
  const app = await createRegionApp(config, { swaggerUi: false });
  try {
    await app.init();
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const skus = Array.from({ length: rows }, (_, i) => `MV-${i}`);
    let postgres = 'unknown';
    say(`seeding ${rows} stock rows and as many ledger rows`);
    for (const db of databases.filter((d) => d.shards !== undefined)) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        postgres = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
        await client.query(`INSERT INTO warehouses (id, region, name) VALUES ($1, 'us-east', $1) ON CONFLICT DO NOTHING`, [WAREHOUSE]);
        const mine = skus.filter((sku) => {
          const shard = shardOf(sku, SHARDS);
          return shard >= db.shards!.from && shard <= db.shards!.to;
        });
        for (let i = 0; i < mine.length; i += 50_000) {
          const part = mine.slice(i, i + 50_000);
          const shards = part.map((sku) => shardOf(sku, SHARDS));
          await client.query(
            `INSERT INTO stock (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at)
             SELECT $1, sku, shard, 'us-east', 1000, 0, 1, now() FROM unnest($2::text[], $3::smallint[]) AS r(sku, shard)`,
            [WAREHOUSE, part, shards],
          );
          await client.query(
            `INSERT INTO stock_movements (warehouse_id, sku, shard, kind, delta, reason, on_hand_after, reserved_after, version, actor)
             SELECT $1, sku, shard, 'set', 1000, 'count', 1000, 0, 1, 'bench' FROM unnest($2::text[], $3::smallint[]) AS r(sku, shard)`,
            [WAREHOUSE, part, shards],
          );
        }
        await client.query('VACUUM ANALYZE');
      } finally {
        await client.end();
      }
    }
    const movedRows = skus.filter((sku) => MOVED.includes(shardOf(sku, SHARDS))).length;

    // The ceiling: the same rows streamed from one server to the other by PostgreSQL's COPY, no checks.
    const ceilingStart = performance.now();
    const selectMoved = `SELECT * FROM stock WHERE shard BETWEEN 8 AND 15`;
    await promisify(exec)(
      `psql -X -q "${url('us-east/1')}" -c "\\copy (${selectMoved}) TO STDOUT" | psql -X -q "${url('us-east/2')}" -c "BEGIN" -c "SET stockmesh.shard_mover = 'on'" -c "\\copy stock FROM STDIN" -c "ROLLBACK"`,
      { shell: '/bin/bash', maxBuffer: 1 << 20 },
    );
    const ceilingMs = performance.now() - ceilingStart;

    say(`${clients} clients adjusting stock over HTTP; warming up 3 s`);
    const writers = new Writers(base, skus, clients);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const before = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const moves: { report: MoveReport; from: number; to: number }[] = [];
    for (const to of ['us-east/2', 'us-east/1']) {
      say(`moving shards 8-15 to ${to}`);
      const from = performance.now();
      const response = await fetch(`${base}/v1/cluster/shards/moves`, {
        method: 'POST',
        headers: { ...BENCH_AUTHORIZATION, 'content-type': 'application/json' },
        body: JSON.stringify({ shards: MOVED, to }),
        signal: AbortSignal.timeout(30 * 60_000),
      });
      const report = (await response.json()) as MoveReport;
      if (response.status !== 200) throw new Error(`the move answered ${response.status}: ${JSON.stringify(report)}`);
      moves.push({ report, from, to: performance.now() });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
    await writers.stop();
    const steady = writers.window(before, before + 5_000);

    console.log(`\nOnline shard move: shards 8-15 (${movedRows} stock rows and as many ledger rows) between two PostgreSQL servers`);
    console.log(
      grid(
        ['move', 'rounds', 'rows copied', 'copy rows/s', 'move', 'write pause', 'ceiling: \\copy of the stock rows alone'],
        moves.map(({ report }) => [
          `${report.from} → ${report.to}`,
          String(report.rounds),
          String(report.rowsCopied),
          (report.rowsCopied / (report.ms / 1000)).toFixed(0),
          `${(report.ms / 1000).toFixed(1)} s`,
          `${report.pauseMs} ms`,
          `${(ceilingMs / 1000).toFixed(1)} s (${(movedRows / (ceilingMs / 1000)).toFixed(0)} rows/s)`,
        ]),
      ),
    );
    console.log(`\nWhat ${clients} clients adjusting stock saw (every write answered; a 503 asked again counts as one slow write)`);
    console.log(
      grid(
        ['window', 'writes/s', 'p50', 'p99', 'slowest'],
        [
          ['before the moves (5 s)', steady],
          ...moves.map(({ report, from, to }) => [`during ${report.from} → ${report.to}`, writers.window(from, to)] as const),
        ].map(([name, w]) => [
          name as string,
          (w as { perSecond: number }).perSecond.toFixed(0),
          ms(percentile((w as { sorted: number[] }).sorted, 50)),
          ms(percentile((w as { sorted: number[] }).sorted, 99)),
          ms((w as { sorted: number[] }).sorted.at(-1) ?? Number.NaN),
        ]),
      ),
    );
    console.log(`writes that failed after 20 tries: ${writers.failures}`);
    console.log('\nMachine');
    console.log(
      table([
        ...machine(postgres),
        ['second server', `${second.url.replace(/\/postgres$/, '')} (started by the benchmark, fsync off)`],
        ['settings', `BENCH_ROWS=${rows} BENCH_CONCURRENCY=${clients}`],
        ['date', new Date().toISOString()],
      ]),
    );
  } finally {
    await app.close();
    await dropDatabases(databases.map((d) => d.url)).catch(() => undefined);
    await second.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

runMain(main);
