// `npm run bench:apply`: how fast one region's replicator works off a backlog of other regions'
// stock changes, beside what kafkajs alone consumes and produces on the same broker. Starts us-east
// and ap-south on throwaway databases and topics, registers warehouses at us-east, stops ap-south,
// writes BENCH_EVENTS `stock.changed` events of us-east straight to the stock topic (what its
// outbox relay would publish, BENCH_SKUS rows per warehouse, each row's versions increasing), then
// starts ap-south and times how long its `consumer_positions` take to reach the topic's end
// offsets. A script that measures, not a test: it asserts nothing about timings.
//
//   BENCH_EVENTS    events in the backlog (default 100000)
//   BENCH_SKUS      SKUs per warehouse (default 5000)
//   BENCH_CPU_PROF  a directory: the regions run with `node --cpu-prof` and write their profiles there

import { TOPICS } from '@stockmesh/contracts';
import type { OutgoingMessage } from '@stockmesh/messaging';
import { shardOf } from '@stockmesh/sharding';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
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
const APPLIER = 'ap-south';
const WAREHOUSES = 2;
const PRODUCE_BATCH = 500;
const CATCH_UP_TIMEOUT_MS = 180_000;
const POLL_MS = 50;

async function main(): Promise<void> {
  const events = positiveInt('BENCH_EVENTS', 100_000);
  const skus = positiveInt('BENCH_SKUS', 5_000);
  const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
  const signal = interruptSignal();
  await ensureBroker();
  const hex = runId();
  const topicPrefix = `bench-${hex}.`;
  // The events are synthetic (us-east has no such rows): anti-entropy would rightly delete their
  // replicas from ap-south, so its digests are put off beyond the run.
  const env: Record<string, string> = { STOCKMESH_ANTI_ENTROPY_MS: '86400000', ...(profileDir ? { BENCH_CPU_PROF: profileDir } : {}) };
  const entry = profileDir ? 'dist/bench/profiled-region.js' : undefined;
  await withBenchCluster(
    { dbPrefix: `smapply_${hex}`, topicPrefix, regions: [OWNER, APPLIER], portsFrom: 4760, env, entry, signal },
    async ({ cluster, env: regionEnv }) => {
      const shards = cluster.config.shardCount;
      const bus = adminBus(regionEnv, topicPrefix, hex);
      const owner = cluster.regions.find((r) => r.id === OWNER)!;
      const applierDbs = cluster.config.regions
        .find((r) => r.id === APPLIER)!
        .databases.map((d) => new pg.Pool({ connectionString: d.url, max: 2 }));
      const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> =>
        (await Promise.all(applierDbs.map((p) => p.query<T>(sql, params)))).flatMap((r) => r.rows);
      try {
        const warehouses = await registerBenchWarehouses(owner.url, OWNER, WAREHOUSES);
        // The replicator waits for the catalog before it applies a warehouse's stock: let it arrive first.
        while ((await query<{ n: number }>('SELECT count(*)::int AS n FROM warehouses WHERE id = ANY($1)', [warehouses]))[0].n < 1) {
          await sleep(100, undefined, { signal });
        }
        say(`registered ${warehouses.length} warehouses at ${OWNER}; ${APPLIER} has them; stopping ${APPLIER}`);
        await cluster.stopRegion(APPLIER);

        // What us-east's relay would publish: every row's versions in order, rows interleaved.
        const publisher = await bus.publisher();
        const rows = warehouses.length * skus;
        const started = performance.now();
        const at = new Date().toISOString();
        for (let from = 0; from < events; from += PRODUCE_BATCH) {
          const messages: OutgoingMessage[] = [];
          for (let i = from; i < Math.min(events, from + PRODUCE_BATCH); i++) {
            const warehouseId = warehouses[i % warehouses.length];
            const sku = `A-${Math.floor(i / warehouses.length) % skus}`;
            const version = Math.floor(i / rows) + 1;
            messages.push(
              stockChangedMessage(TOPICS.stock, {
                warehouseId,
                sku,
                region: OWNER,
                shard: shardOf(sku, shards),
                onHand: version,
                version,
                updatedAt: at,
                cause: { kind: 'adjustment', delta: 1, reason: 'received', movementId: randomUUID(), actor: 'bench' },
              }),
            );
          }
          await publisher.publish(messages);
          signal.throwIfAborted();
        }
        const produceS = (performance.now() - started) / 1000;
        await publisher.close();
        say(`produced ${events} events in ${produceS.toFixed(1)} s; consuming them with kafkajs alone`);

        // The ceiling: the same records through libs/messaging's consumer, handler doing nothing.
        const admin = await bus.admin();
        const ends = new Map((await admin.offsets(TOPICS.stock)).map((p) => [p.partition, BigInt(p.high)]));
        await admin.close();
        const rawS = await rawConsume(bus, TOPICS.stock, events, hex);

        const positions = async (): Promise<number> => {
          const stored = await query<{ partition: number; next_offset: string }>(
            'SELECT partition, next_offset FROM consumer_positions WHERE topic = $1',
            [TOPICS.stock],
          );
          const at = new Map(stored.map((r) => [r.partition, BigInt(r.next_offset)]));
          let behind = 0n;
          for (const [partition, end] of ends) if (end > (at.get(partition) ?? 0n)) behind += end - (at.get(partition) ?? 0n);
          return Number(behind);
        };
        say(`${await positions()} events pending for ${APPLIER}; starting it`);
        const restart = performance.now();
        await cluster.startRegion(APPLIER);
        const ready = performance.now();
        const pending = await positions();
        let first = Number.NaN;
        let left = pending;
        while (left > 0 && performance.now() - ready < CATCH_UP_TIMEOUT_MS) {
          await sleep(POLL_MS, undefined, { signal });
          left = await positions();
          if (Number.isNaN(first) && left < pending) first = performance.now();
        }
        const done = performance.now();
        const applyS = (done - ready) / 1000;
        const applied = (await query<{ n: number }>('SELECT count(*)::int AS n FROM stock_replica WHERE region = $1', [OWNER])).reduce(
          (sum, r) => sum + r.n,
          0,
        );
        if (profileDir) await cluster.stopRegion(APPLIER); // writes its profile
        console.log('\nReplicator apply benchmark');
        console.log(
          table([
            ['backlog', `${events} stock.changed events of ${OWNER}, ${rows} rows, ${shards} partitions`],
            ['kafkajs produce', `${(events / produceS).toFixed(0)} events/s (batches of ${PRODUCE_BATCH}, acks=all, idempotent)`],
            ['kafkajs consume (ceiling)', `${(events / rawS).toFixed(0)} events/s (libs/messaging consumer, empty handler)`],
            [`${APPLIER} restart`, `ready after ${((ready - restart) / 1000).toFixed(1)} s, ${pending} events pending then`],
            [
              'caught up after ready',
              left === 0 ? `${applyS.toFixed(2)} s` : `no, ${left} still pending after ${CATCH_UP_TIMEOUT_MS / 1000} s`,
            ],
            ['apply rate from ready', left === 0 ? `${(pending / applyS).toFixed(0)} events/s` : 'n/a'],
            [
              'apply rate once applying',
              left === 0 && !Number.isNaN(first)
                ? `${(pending / ((done - first) / 1000)).toFixed(0)} events/s from the first apply`
                : 'n/a',
            ],
            ['replica rows', `${applied} of ${rows}`],
            ['ratio to the ceiling', left === 0 ? `${(pending / applyS / (events / rawS)).toFixed(3)}×` : 'n/a'],
          ]),
        );
        const [{ server_version }] = await query<{ server_version: string }>('SHOW server_version');
        console.log('\nMachine');
        console.log(table(machine(server_version)));
        if (profileDir) say(`CPU profiles in ${profileDir} (summarise with: node bench/profile-summary.mjs <file>)`);
      } finally {
        await Promise.all(applierDbs.map((p) => p.end()));
      }
    },
  );
}

runMain(main);
