// `npm run bench:holds`: how many holds one owner places per second in-process (HoldService.place,
// what the internal hold API and the local coordinator call), with `BENCH_CONCURRENCY` callers in
// a closed loop, on cold rows and on one hot row, against pgbench running the owner's one-hold
// transaction on the same database (the ceiling of placing holds one transaction each). No HTTP,
// no saga, no Kafka: the owner's database work and its Node CPU alone. Starts one region app on
// throwaway databases, prints figures, drops the databases. Asserts nothing.
//
//   BENCH_SECONDS      measured seconds per scenario (default 10)
//   BENCH_CONCURRENCY  places in flight (default 64)

// First: @stockmesh/contracts decorates its event classes at import time and needs the polyfill.
import 'reflect-metadata';
import { loadAppConfig } from '@stockmesh/config';
import { dropDatabases, provisionDatabases, ShardDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { HoldService } from '@stockmesh/stock';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createRegionApp } from '../apps/region/src/region-app.js';
import { CpuMeter, grid, machine, ms, percentile, positiveInt, runMain, say, sayLoad, table, transactionsEnded } from './bench-support.js';

const ROWS = 2_000;
const WAREHOUSE = 'bh-1';
const UNITS = 1_000_000_000;

interface Figures {
  readonly name: string;
  readonly holds: number;
  readonly refused: number;
  readonly perSecond: number;
  readonly latencies: number[];
  readonly transactionsPerHold: number;
  readonly cores: ReadonlyMap<string, number>;
}

async function main(): Promise<void> {
  const seconds = positiveInt('BENCH_SECONDS', 10);
  const concurrency = positiveInt('BENCH_CONCURRENCY', 64);
  sayLoad();
  const config = loadAppConfig({
    STOCKMESH_REGION: 'us-east',
    STOCKMESH_DB_PREFIX: `smholds_${randomBytes(3).toString('hex')}`,
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    LOG_LEVEL: 'warn',
    STOCKMESH_REPLICATION: 'false',
    STOCKMESH_CLUSTER_SECRET: randomBytes(32).toString('base64url'),
  });
  const urls = config.region.databases.map((d) => d.url);
  await provisionDatabases(config.region.databases);
  const app = await createRegionApp(config, { swaggerUi: false });
  await app.init();
  // The region runs in this process: its CPU is this process's.
  const cpu = new CpuMeter((pid, _ppid, comm) => (pid === process.pid ? 'region' : comm === 'postgres' ? 'postgresql' : 'other processes'));
  try {
    const databases = app.get(ShardDatabases);
    const holds = app.get(HoldService);
    // The rows, straight into each row's shard database (as bench:reservations seeds pgbench's).
    let postgres = 'unknown';
    for (const db of databases.all()) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        postgres = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
        await client.query(`INSERT INTO warehouses (id, region, name) VALUES ($1, 'us-east', $1) ON CONFLICT DO NOTHING`, [WAREHOUSE]);
        const skus = Array.from({ length: ROWS }, (_, i) => `BH-${i}`).filter(
          (sku) => databases.databaseFor(shardOf(sku, config.cluster.shardCount)).name === db.name,
        );
        await client.query(
          `INSERT INTO stock (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at)
           SELECT $1, sku, shard, 'us-east', $2, 0, 1, now() FROM unnest($3::text[], $4::smallint[]) AS r(sku, shard)`,
          [WAREHOUSE, UNITS, skus, skus.map((sku) => shardOf(sku, config.cluster.shardCount))],
        );
        await client.query('VACUUM ANALYZE stock');
      } finally {
        await client.end();
      }
    }
    say(`one region in-process, ${config.region.databases.length} databases, pool ${config.db.poolSize} each; ${ROWS} rows`);

    const run = async (name: string, skuOf: (i: number) => string): Promise<Figures> => {
      const drive = async (forSeconds: number): Promise<{ latencies: number[]; refused: number; elapsed: number }> => {
        const latencies: number[] = [];
        let refused = 0;
        let next = 0;
        const start = performance.now();
        const end = start + forSeconds * 1000;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (performance.now() < end) {
              const reservationId = `us-east.${randomUUID()}`;
              const t0 = performance.now();
              try {
                await holds.place({
                  holdId: `${reservationId}/1`,
                  reservationId,
                  warehouseId: WAREHOUSE,
                  sku: skuOf(next++),
                  quantity: 1,
                  ttlSeconds: 900,
                });
                latencies.push(performance.now() - t0);
              } catch {
                refused++;
              }
            }
          }),
        );
        return { latencies, refused, elapsed: (performance.now() - start) / 1000 };
      };
      say(`${name}: warming up 2 s, then ${seconds} s measured, ${concurrency} in flight`);
      await drive(2);
      const before = await transactionsEnded(urls);
      const from = cpu.sample();
      const measured = await drive(seconds);
      const cores = CpuMeter.cores(from, cpu.sample());
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const transactions = (await transactionsEnded(urls)) - before;
      const latencies = measured.latencies.sort((a, b) => a - b);
      return {
        name,
        holds: latencies.length,
        refused: measured.refused,
        perSecond: latencies.length / measured.elapsed,
        latencies,
        transactionsPerHold: transactions / Math.max(1, latencies.length),
        cores,
      };
    };
    const figures = [await run(`cold rows (${ROWS})`, (i) => `BH-${(i * 7919) % ROWS}`), await run('one hot row', () => 'BH-0')];
    console.log('\nOwner holds in-process: HoldService.place, quantity 1');
    console.log(
      grid(
        ['scenario', 'holds/s', 'refused', 'p50', 'p95', 'p99', 'transactions per hold', 'CPU (cores)'],
        figures.map((f) => [
          f.name,
          f.perSecond.toFixed(0),
          String(f.refused),
          ...[50, 95, 99].map((p) => ms(percentile(f.latencies, p))),
          f.transactionsPerHold.toFixed(2),
          CpuMeter.describe(f.cores),
        ]),
      ),
    );
    console.log('\nMachine');
    console.log(
      table([
        ...machine(postgres),
        ['settings', `BENCH_SECONDS=${seconds} BENCH_CONCURRENCY=${concurrency}`],
        ['date', new Date().toISOString()],
      ]),
    );
  } finally {
    await app.close();
    await dropDatabases(urls);
  }
}

runMain(main);
