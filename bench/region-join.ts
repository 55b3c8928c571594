// `npm run bench:join`: how long a region joining a running cluster takes to bootstrap, i.e. to
// rebuild every other region's rows from the compacted state topic and answer `/health/ready`
// (issue 11: under 60 s for 1,000,000 rows), beside what kafkajs alone reads from that topic and
// what PostgreSQL alone writes of the same rows. Starts us-east on throwaway databases and topics
// (ap-south, the joining region, is in the configuration but not started), registers warehouses at
// us-east, writes BENCH_ROWS `stock.changed` records of us-east straight to the state topic (what
// its relay would have left there: the latest state of each row, one record per row), then starts
// ap-south and times its start until ready. A script that measures, not a test: it asserts nothing
// about timings.
//
//   BENCH_ROWS  rows on the state topic (default 1000000)

import { TOPICS } from '@stockmesh/contracts';
import type { OutgoingMessage, Publisher } from '@stockmesh/messaging';
import { shardOf } from '@stockmesh/sharding';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  adminBus,
  ensureBroker,
  interruptSignal,
  machine,
  positiveInt,
  rawConsume,
  registerBenchWarehouses,
  runId,
  runMain,
  stockChangedMessage,
  say,
  table,
  withBenchCluster,
} from './bench-support.js';

const OWNER = 'us-east';
const JOINER = 'ap-south';
const WAREHOUSES = 4;
const PRODUCE_BATCH = 1_000;
/** Publishes in flight at once while seeding. */
const PRODUCERS_IN_FLIGHT = 4;
const READY_TIMEOUT_MS = 600_000;
const POLL_MS = 100;

async function main(): Promise<void> {
  const rows = positiveInt('BENCH_ROWS', 1_000_000);
  const signal = interruptSignal();
  await ensureBroker();
  const hex = runId();
  const topicPrefix = `bench-${hex}.`;
  // The rows are synthetic (us-east's tables do not hold them): anti-entropy would rightly delete
  // their replicas from ap-south, so digests are put off beyond the run.
  const env: Record<string, string> = { STOCKMESH_ANTI_ENTROPY_MS: '86400000' };
  await withBenchCluster(
    {
      dbPrefix: `smjoin_${hex}`,
      topicPrefix,
      regions: [OWNER, JOINER],
      start: [OWNER],
      portsFrom: 4780,
      env,
      readyTimeoutMs: READY_TIMEOUT_MS,
      signal,
    },
    async ({ cluster, env: regionEnv }) => {
      const shards = cluster.config.shardCount;
      const bus = adminBus(regionEnv, topicPrefix, hex);
      const owner = cluster.regions.find((r) => r.id === OWNER)!;
      const joinerDbs = cluster.config.regions
        .find((r) => r.id === JOINER)!
        .databases.map((d) => new pg.Pool({ connectionString: d.url, max: 2 }));
      const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> =>
        (await Promise.all(joinerDbs.map((p) => p.query<T>(sql, params)))).flatMap((r) => r.rows);
      try {
        const warehouses = await registerBenchWarehouses(owner.url, OWNER, WAREHOUSES);
        say(`registered ${warehouses.length} warehouses at ${OWNER}; writing ${rows} rows to the state topic`);

        const publisher = await bus.publisher();
        const produceStarted = performance.now();
        await seed(publisher, rows, warehouses, shards, signal);
        const produceS = (performance.now() - produceStarted) / 1000;
        await publisher.close();
        say(`produced ${rows} records in ${produceS.toFixed(1)} s; reading them with kafkajs alone (the ceiling)`);
        const rawS = await rawConsume(bus, TOPICS.stockState, rows, hex);
        say(`kafkajs alone read them in ${rawS.toFixed(1)} s; PostgreSQL alone writing as many replica rows`);
        const pgS = await postgresAlone(joinerDbs[0], rows);

        say(`starting ${JOINER}, the joining region, and waiting for its /health/ready`);
        const positioned = async (): Promise<number> =>
          (await query<{ n: number }>('SELECT count(*)::int AS n FROM consumer_positions WHERE topic = $1', [TOPICS.stock])).reduce(
            (sum, r) => sum + r.n,
            0,
          );
        const started = performance.now();
        let rebuiltAt = Number.NaN;
        let starting = true;
        // The rebuild stores every shard's position at its end: that moment, seen from outside.
        const watch = (async () => {
          while (starting) {
            if (Number.isNaN(rebuiltAt) && (await positioned()) >= shards) rebuiltAt = performance.now();
            await sleep(POLL_MS);
          }
        })();
        let readyAt = Number.NaN;
        try {
          await cluster.startRegion(JOINER);
          readyAt = performance.now();
          // A region that says ready before its rebuild ends (as before issue 11) is timed to the end too.
          while (Number.isNaN(rebuiltAt) && performance.now() - started < READY_TIMEOUT_MS) await sleep(POLL_MS, undefined, { signal });
        } finally {
          starting = false;
          await watch;
        }
        const readyS = (readyAt - started) / 1000;
        const rebuildS = (rebuiltAt - started) / 1000;
        const replicaRows = (await query<{ n: number }>('SELECT count(*)::int AS n FROM stock_replica WHERE region = $1', [OWNER])).reduce(
          (sum, r) => sum + r.n,
          0,
        );
        console.log('\nRegion join benchmark');
        console.log(
          table([
            ['state topic', `${rows} rows of ${OWNER} (${warehouses.length} warehouses), ${shards} partitions`],
            [
              'kafkajs produce',
              `${(rows / produceS).toFixed(0)} records/s (batches of ${PRODUCE_BATCH}, ${PRODUCERS_IN_FLIGHT} in flight)`,
            ],
            [
              'kafkajs alone reads them (ceiling)',
              `${rawS.toFixed(1)} s, ${(rows / rawS).toFixed(0)} rows/s (libs/messaging consumer, empty handler)`,
            ],
            [
              'PostgreSQL alone writes them (ceiling)',
              `${pgS.toFixed(1)} s, ${(rows / pgS).toFixed(0)} rows/s (one INSERT ... SELECT into a copy of stock_replica with its indexes)`,
            ],
            [`${JOINER} rebuilt (positions stored)`, Number.isNaN(rebuildS) ? 'not seen' : `${rebuildS.toFixed(1)} s after its start`],
            [`${JOINER} ready (goal: under 60 s)`, `${readyS.toFixed(1)} s after its start, ${(rows / readyS).toFixed(0)} rows/s`],
            ['replica rows', `${replicaRows} of ${rows}`],
            ['ratio to the slower ceiling', `${(Math.max(rawS, pgS) / readyS).toFixed(2)}×`],
          ]),
        );
        const [{ server_version }] = await query<{ server_version: string }>('SHOW server_version');
        console.log('\nMachine');
        console.log(table(machine(server_version)));
      } finally {
        await Promise.all(joinerDbs.map((p) => p.end()));
      }
    },
  );
}

/** Writes one `stock.changed` record per row to the state topic, as us-east's relay would have. */
async function seed(publisher: Publisher, rows: number, warehouses: readonly string[], shards: number, signal: AbortSignal): Promise<void> {
  const at = new Date().toISOString();
  const batch = (from: number): OutgoingMessage[] => {
    const messages: OutgoingMessage[] = [];
    for (let i = from; i < Math.min(rows, from + PRODUCE_BATCH); i++) {
      const warehouseId = warehouses[i % warehouses.length];
      const sku = `J-${Math.floor(i / warehouses.length)}`;
      messages.push(
        stockChangedMessage(TOPICS.stockState, {
          warehouseId,
          sku,
          region: OWNER,
          shard: shardOf(sku, shards),
          onHand: 1 + (i % 500),
          version: 1,
          updatedAt: at,
          cause: { kind: 'set', delta: 1 + (i % 500), reason: 'counted', movementId: randomUUID(), actor: 'bench' },
        }),
      );
    }
    return messages;
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows) {
      const from = next;
      next += PRODUCE_BATCH;
      await publisher.publish(batch(from));
      signal.throwIfAborted();
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS_IN_FLIGHT }, worker));
}

/** Seconds PostgreSQL takes to write `rows` rows into a copy of `stock_replica` (same indexes) in one statement. */
async function postgresAlone(pool: pg.Pool, rows: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('CREATE TEMP TABLE bench_replica (LIKE stock_replica INCLUDING ALL)');
    const started = performance.now();
    await client.query(
      `INSERT INTO bench_replica (warehouse_id, sku, shard, region, on_hand, reserved, safety_stock, incoming, backordered, version,
                                  updated_at, applied_at, event_id, applied_offset)
       SELECT 'bench-us-east-' || (1 + i % 4), 'J-' || (i / 4), (i % 16)::smallint, 'us-east', 1 + i % 500, 0, 0, '[]'::jsonb, 0, 1,
              now(), clock_timestamp(), gen_random_uuid()::text, NULL
         FROM generate_series(0, $1::int - 1) AS i`,
      [rows],
    );
    const seconds = (performance.now() - started) / 1000;
    await client.query('DROP TABLE bench_replica');
    return seconds;
  } finally {
    client.release();
  }
}

runMain(main);
