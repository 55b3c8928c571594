// `npm run bench:convergence`: how fast a stock change reaches the other regions, and how fast one
// region's replicator works off a backlog. Starts its own three-region cluster on throwaway
// databases and topics, prints figures, then stops the cluster and drops the databases (also on
// error or Ctrl-C). A script that measures, not a test: it asserts nothing about timings.
//
//   BENCH_RATE     phase 1 target write rate, writes/s over all regions (default 300)
//   BENCH_SECONDS  phase 1 duration in seconds (default 20)
//   BENCH_BACKLOG  phase 2 events written while ap-south is stopped (default 20000)
//   BENCH_CPU_PROF a directory: the regions run with `node --cpu-prof` and write their profiles there
//
// The anchor (issue 10): kafkajs alone, through libs/messaging's publisher and consumer as the
// regions use them (idempotent, acks=all; the regions' fetch wait), producing one record at a time
// at phase 1's rate for its duration on a topic of its own on the same broker, and timing each
// record from its send to its consumption. Convergence's p99 is printed beside the anchor's.

// First: @stockmesh/contracts decorates its event classes at import time and needs the polyfill.
import 'reflect-metadata';
import { TOPICS } from '@stockmesh/contracts';
import { KafkaJsBus, type BusLog } from '@stockmesh/messaging';
import { dropDatabases } from '@stockmesh/persistence';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readKafkaCredentials } from '@stockmesh/config';
import { clusterFromEnvironment, localKafkaCredentials, startLocalCluster, type LocalCluster } from '../infra/cluster/local-cluster.js';
import {
  BenchDatabases,
  BENCH_ADMIN_KEY,
  BENCH_AUTHORIZATION,
  ensureBroker,
  freePortRange,
  machine,
  ms,
  percentile,
  positiveInt,
  say,
  table,
} from './bench-support.js';

const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const WAREHOUSES_PER_REGION = 2;
/** Requests in flight at most, in both phases. */
const MAX_IN_FLIGHT = 64;
const REQUEST_TIMEOUT_MS = 10_000;
/** How long phase 1 waits for the last replicas after its last write was acknowledged. */
const CONVERGE_TIMEOUT_MS = 30_000;
/** Phase 2: how long the backlog may take to write, to be published, and to be applied. */
const BACKLOG_WRITE_TIMEOUT_MS = 45_000;
const OUTBOX_DRAIN_TIMEOUT_MS = 30_000;
const CATCH_UP_TIMEOUT_MS = 60_000;
const CATCH_UP_POLL_MS = 50;
/** Phase 2 spreads its adjustments over this many SKUs per warehouse. */
const BACKLOG_SKUS = 2_000;
const STOPPED_REGION = 'ap-south';

interface Settings {
  readonly rate: number;
  readonly seconds: number;
  readonly backlog: number;
}

interface Warehouse {
  readonly id: string;
  readonly region: string;
  readonly url: string;
}

/** One timed HTTP write. */
interface WriteResult {
  readonly ok: boolean;
  /** Client wall clock when the answer arrived (ms since the epoch): comparable with `applied_at`. */
  readonly ackAt: number;
  readonly latencyMs: number;
  readonly error?: string;
}

async function send(method: 'PUT' | 'POST', url: string, body: object, expected: number): Promise<WriteResult> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...BENCH_AUTHORIZATION },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const result = { ackAt: Date.now(), latencyMs: performance.now() - started };
    if (response.status === expected) return { ok: true, ...result };
    return { ok: false, ...result, error: `${method} ${url}: HTTP ${response.status} ${text.slice(0, 200)}` };
  } catch (error) {
    return { ok: false, ackAt: Date.now(), latencyMs: performance.now() - started, error: `${method} ${url}: ${(error as Error).message}` };
  }
}

/** A cap on concurrent requests: `take` waits while `free` slots are all taken. */
class Slots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** Kafka topic end offsets, through the project's own bus (the one place kafkajs is used). */
async function endOffsets(bus: KafkaJsBus, topic: string): Promise<Map<number, bigint>> {
  const admin = await bus.admin();
  try {
    return new Map((await admin.offsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.close();
  }
}

/** Waits (bounded) for the regions to create the bench's prefixed stock topic. */
async function waitForTopic(bus: KafkaJsBus, topic: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await endOffsets(bus, topic);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `topic ${topic} did not appear within 30 s (${(error as Error).message}): do the regions apply KAFKA_TOPIC_PREFIX to their topic names?`,
          { cause: error },
        );
      }
    }
    await sleep(500, undefined, { signal });
  }
}

interface Phase1 {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly achievedRate: number;
  readonly sentLate: number;
  readonly writeLatency: readonly number[];
  readonly convergence: readonly number[];
  readonly neverConverged: number;
}

/**
 * Open-loop writes at `rate` for `seconds`: write i is due at start + i/rate, whatever the answers
 * to earlier writes; only the cap on requests in flight can hold one back (counted as late).
 * Each write creates a new SKU in one of its region's own warehouses. Then waits until each of
 * the two other regions holds the replica row.
 */
async function convergencePhase(
  settings: Settings,
  warehouses: readonly Warehouse[],
  dbs: BenchDatabases,
  signal: AbortSignal,
): Promise<Phase1> {
  const slots = new Slots(MAX_IN_FLIGHT);
  const writes: { sku: string; region: string; result: Promise<WriteResult> }[] = [];
  const total = settings.rate * settings.seconds;
  const byRegion = REGIONS.map((region) => warehouses.filter((w) => w.region === region));
  const run = randomBytes(2).toString('hex');
  let sentLate = 0;
  say(`phase 1: ${total} writes at ${settings.rate}/s for ${settings.seconds} s, each to a new SKU`);
  const start = performance.now();
  // Bounded in time as well as in count: a cluster slower than the target rate gets fewer writes.
  const end = start + settings.seconds * 1000;
  for (let i = 0; i < total && !signal.aborted && performance.now() < end; i++) {
    const due = start + (i * 1000) / settings.rate;
    if (due > performance.now()) await sleep(due - performance.now());
    await slots.take();
    if (performance.now() - due > 10) sentLate++;
    const own = byRegion[i % REGIONS.length];
    const warehouse = own[Math.floor(i / REGIONS.length) % own.length];
    const sku = `B-${run}-${i}`;
    const result = send('PUT', `${warehouse.url}/v1/warehouses/${warehouse.id}/stock/${sku}`, { onHand: (i % 1000) + 1 }, 200);
    void result.finally(() => slots.give());
    writes.push({ sku, region: warehouse.region, result });
  }
  const results = await Promise.all(writes.map((w) => w.result));
  const elapsedS = (performance.now() - start) / 1000;
  const acked = writes.map((w, i) => ({ ...w, ...results[i] })).filter((w) => w.ok);
  const failures = results.filter((r) => !r.ok);
  if (failures.length > 0) say(`${failures.length} writes failed; the first: ${failures[0].error}`);
  if (acked.length === 0) throw new Error('no write was acknowledged');
  say(`phase 1: ${acked.length} writes acknowledged in ${elapsedS.toFixed(1)} s; waiting for the replicas`);

  // applied_at (PostgreSQL's clock) of each SKU in each other region; same machine, same clock.
  const appliedAt = new Map<string, Map<string, number>>(acked.map((w) => [w.sku, new Map()]));
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  for (;;) {
    let missing = 0;
    for (const region of REGIONS) {
      const pending = acked.filter((w) => w.region !== region && !appliedAt.get(w.sku)!.has(region)).map((w) => w.sku);
      if (pending.length === 0) continue;
      const rows = await dbs.query<{ sku: string; applied_at: Date }>(
        region,
        'SELECT sku, applied_at FROM stock_replica WHERE sku = ANY($1)',
        [pending],
      );
      for (const row of rows) appliedAt.get(row.sku)!.set(region, row.applied_at.getTime());
      missing += pending.length - rows.length;
    }
    if (missing === 0 || Date.now() > deadline) break;
    await sleep(250, undefined, { signal });
  }

  const convergence: number[] = [];
  const unconverged: string[] = [];
  for (const w of acked) {
    const seen = appliedAt.get(w.sku)!;
    if (seen.size === REGIONS.length - 1) convergence.push(Math.max(...[...seen.values()].map((t) => t - w.ackAt)));
    else unconverged.push(`${w.sku} (from ${w.region}, missing in ${REGIONS.filter((r) => r !== w.region && !seen.has(r)).join(' and ')})`);
  }
  if (unconverged.length > 0)
    say(`${unconverged.length} writes never reached every other region, e.g. ${unconverged.slice(0, 5).join(', ')}`);
  const sorted = (values: number[]): number[] => values.sort((a, b) => a - b);
  return {
    attempted: writes.length,
    acknowledged: acked.length,
    failed: failures.length,
    achievedRate: acked.length / elapsedS,
    sentLate,
    writeLatency: sorted(acked.map((w) => w.latencyMs)),
    convergence: sorted(convergence),
    neverConverged: unconverged.length,
  };
}

interface Anchor {
  readonly sent: number;
  readonly received: number;
  readonly latency: readonly number[];
}

/** The regions' fetch wait (KAFKA_MAX_WAIT_MS's default), so that the anchor fetches as they do. */
const ANCHOR_MAX_WAIT_MS = 500;
const ANCHOR_PARTITIONS = 16;

/**
 * Raw kafkajs produce→consume at `rate` for `seconds`: each record carries its send time (this
 * process's clock, as its receipt is), sent one per publish call, open loop; its latency is
 * receipt minus send. Records not consumed within 10 s of the last send count as not received.
 */
async function anchorPhase(bus: KafkaJsBus, topic: string, settings: Settings, hex: string, signal: AbortSignal): Promise<Anchor> {
  const admin = await bus.admin();
  try {
    await admin.ensureTopics([{ topic, partitions: ANCHOR_PARTITIONS }]);
  } finally {
    await admin.close();
  }
  const latency: number[] = [];
  const consumer = bus.consumer({ groupId: `bench-anchor-${hex}`, topics: [topic], fromBeginning: true, maxWaitMs: ANCHOR_MAX_WAIT_MS });
  let assigned!: () => void;
  const ready = new Promise<void>((resolve) => (assigned = resolve));
  await consumer.start(async (batch) => {
    const now = performance.timeOrigin + performance.now();
    for (const m of batch.messages) if (m.value && m.value.length > 1) latency.push(now - Number(m.value.toString()));
    assigned();
    return undefined;
  });
  const publisher = await bus.publisher();
  try {
    // A first record, not timed, so that the group has its partitions before the measured ones.
    await publisher.publish([{ topic, key: 'warm-up', value: '0' }]);
    await Promise.race([ready, sleep(30_000, undefined, { signal })]);
    say(`anchor: kafkajs alone, ${settings.rate} records/s for ${settings.seconds} s, one per publish, on ${topic}`);
    const total = settings.rate * settings.seconds;
    const sends: Promise<unknown>[] = [];
    const start = performance.now();
    for (let i = 0; i < total && !signal.aborted; i++) {
      const due = start + (i * 1000) / settings.rate;
      if (due > performance.now()) await sleep(due - performance.now());
      const value = String(performance.timeOrigin + performance.now());
      sends.push(publisher.publish([{ topic, key: `a-${i}`, value }]).catch(() => undefined));
    }
    await Promise.all(sends);
    const deadline = performance.now() + 10_000;
    while (latency.length < total && performance.now() < deadline) await sleep(50, undefined, { signal });
    return { sent: total, received: latency.length, latency: latency.sort((a, b) => a - b) };
  } finally {
    await publisher.close();
    await consumer.stop();
  }
}

interface Phase2 {
  readonly written: number;
  readonly failed: number;
  readonly writeRate: number;
  readonly pendingAtReady: number;
  readonly restartS: number;
  readonly firstApplyS: number;
  readonly catchUpS: number;
  readonly caughtUp: boolean;
}

/** ap-south's position per stock partition (the logical topic name, as the replicator stores it). */
async function positions(dbs: BenchDatabases): Promise<Map<number, bigint>> {
  const rows = await dbs.query<{ partition: number; next_offset: string }>(
    STOPPED_REGION,
    'SELECT partition, next_offset FROM consumer_positions WHERE topic = $1',
    [TOPICS.stock],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

function behind(ends: ReadonlyMap<number, bigint>, at: ReadonlyMap<number, bigint>): number {
  let events = 0n;
  for (const [partition, end] of ends) {
    const gap = end - (at.get(partition) ?? 0n);
    if (gap > 0n) events += gap;
  }
  return Number(events);
}

/**
 * Stops ap-south, writes a backlog in the other regions, starts ap-south again and times, from
 * the moment it is ready, how long its replicator takes to reach the stock topic's end offsets.
 */
async function backlogPhase(
  settings: Settings,
  cluster: LocalCluster,
  warehouses: readonly Warehouse[],
  dbs: BenchDatabases,
  bus: KafkaJsBus,
  stockTopic: string,
  signal: AbortSignal,
): Promise<Phase2> {
  say(`phase 2: stopping ${STOPPED_REGION}`);
  await cluster.stopRegion(STOPPED_REGION);
  const writers = REGIONS.filter((r) => r !== STOPPED_REGION);
  const targets = warehouses.filter((w) => w.region !== STOPPED_REGION);
  const slots = new Slots(MAX_IN_FLIGHT);
  const results: Promise<WriteResult>[] = [];
  say(`phase 2: writing ${settings.backlog} adjustments as fast as ${MAX_IN_FLIGHT} in flight allow`);
  const start = performance.now();
  for (let i = 0; i < settings.backlog && !signal.aborted && performance.now() - start < BACKLOG_WRITE_TIMEOUT_MS; i++) {
    await slots.take();
    const warehouse = targets[i % targets.length];
    const sku = `P-${Math.floor(i / targets.length) % BACKLOG_SKUS}`;
    const result = send(
      'POST',
      `${warehouse.url}/v1/warehouses/${warehouse.id}/stock/${sku}/adjustments`,
      { delta: 1, reason: 'received' },
      201,
    );
    void result.finally(() => slots.give());
    results.push(result);
  }
  const settled = await Promise.all(results);
  const writeS = (performance.now() - start) / 1000;
  const failures = settled.filter((r) => !r.ok);
  if (failures.length > 0) say(`${failures.length} adjustments failed; the first: ${failures[0].error}`);
  say(`phase 2: ${settled.length - failures.length} adjustments in ${writeS.toFixed(1)} s; waiting for the outboxes to be published`);

  // The end offsets only mean "everything" once the writers' outboxes are empty.
  const drainDeadline = Date.now() + OUTBOX_DRAIN_TIMEOUT_MS;
  for (;;) {
    const counts = await Promise.all(writers.map((r) => dbs.query<{ n: number }>(r, 'SELECT count(*)::int AS n FROM outbox')));
    const left = counts.flat().reduce((sum, row) => sum + row.n, 0);
    if (left === 0) break;
    if (Date.now() > drainDeadline) throw new Error(`${left} events still in the outboxes after ${OUTBOX_DRAIN_TIMEOUT_MS / 1000} s`);
    await sleep(100, undefined, { signal });
  }
  const ends = await endOffsets(bus, stockTopic);
  say(`phase 2: ${behind(ends, await positions(dbs))} events pending for ${STOPPED_REGION}; starting it`);

  const restartStart = performance.now();
  await cluster.startRegion(STOPPED_REGION);
  const ready = performance.now();
  const atReady = await positions(dbs);
  const pendingAtReady = behind(ends, atReady);
  let firstApply = Number.NaN;
  let caughtUp = false;
  while (!signal.aborted && performance.now() - ready < CATCH_UP_TIMEOUT_MS) {
    const now = await positions(dbs);
    if (Number.isNaN(firstApply) && behind(ends, now) < pendingAtReady) firstApply = performance.now();
    if (behind(ends, now) === 0) {
      caughtUp = true;
      break;
    }
    await sleep(CATCH_UP_POLL_MS);
  }
  const done = performance.now();
  return {
    written: settled.length - failures.length,
    failed: failures.length,
    writeRate: (settled.length - failures.length) / writeS,
    pendingAtReady,
    restartS: (ready - restartStart) / 1000,
    firstApplyS: (firstApply - ready) / 1000,
    catchUpS: (done - ready) / 1000,
    caughtUp,
  };
}

async function main(): Promise<void> {
  const settings: Settings = {
    rate: positiveInt('BENCH_RATE', 300),
    seconds: positiveInt('BENCH_SECONDS', 20),
    backlog: positiveInt('BENCH_BACKLOG', 20_000),
  };
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) return;
    say(`${signal}: stopping the cluster and dropping its databases`);
    stop.abort();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, onSignal);

  say(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${availableParallelism()} cpus (figures suffer when the machine is busy)`,
  );
  await ensureBroker();
  const hex = randomBytes(3).toString('hex');
  const topicPrefix = `bench-${hex}.`;
  const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
  const stockTopic = `${topicPrefix}${TOPICS.stock}`;
  const env = {
    STOCKMESH_REGIONS: REGIONS.join(','),
    STOCKMESH_DB_PREFIX: `smbench_${hex}`,
    STOCKMESH_BASE_PORT: String(await freePortRange(4700, REGIONS.length)),
    KAFKA_TOPIC_PREFIX: topicPrefix,
    LOG_LEVEL: 'warn',
    STOCKMESH_ADMIN_KEY: BENCH_ADMIN_KEY,
    // A bench measures the regions, not the rate limit of its one key.
    STOCKMESH_LIMITS_EXEMPT_ADMIN: 'true',
    // Regions refuse to start without the secret that signs their calls to each other.
    STOCKMESH_CLUSTER_SECRET: `bench-cluster-${randomBytes(24).toString('base64url')}`,
    // kafka.sh's broker with SASL: each region gets its principal, the bench reads as admin.
    STOCKMESH_KAFKA_CREDENTIALS: process.env.STOCKMESH_KAFKA_CREDENTIALS || localKafkaCredentials(process.env),
    ...(profileDir ? { BENCH_CPU_PROF: profileDir } : {}),
  };
  // Known before the start, so a start that fails half-way still has its databases dropped.
  const databaseUrls = clusterFromEnvironment({ ...process.env, ...env }).regions.flatMap((r) => r.databases.map((d) => d.url));
  const logDir = join(process.cwd(), '.stockmesh', 'bench-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${env.STOCKMESH_DB_PREFIX}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const busLog: BusLog = {
    error: (_, msg) => say(`kafka: ${msg}`),
    warn: (_, msg) => say(`kafka: ${msg}`),
    info: () => undefined,
    debug: () => undefined,
  };
  const bus = new KafkaJsBus({
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    sasl: env.STOCKMESH_KAFKA_CREDENTIALS
      ? { mechanism: 'scram-sha-512', username: 'admin', password: readKafkaCredentials(env.STOCKMESH_KAFKA_CREDENTIALS).users.admin }
      : undefined,
    clientId: `stockmesh-bench-${hex}`,
    log: busLog,
  });

  let cluster: LocalCluster | undefined;
  let dbs: BenchDatabases | undefined;
  try {
    say(
      `starting 3 regions (databases ${env.STOCKMESH_DB_PREFIX}_*, topics ${topicPrefix}*, ports ${env.STOCKMESH_BASE_PORT}+, log ${logFile})`,
    );
    cluster = await startLocalCluster({
      env,
      entry: profileDir ? 'dist/bench/profiled-region.js' : undefined,
      log: { format: 'json', stream: log },
      ownProcessGroups: true,
      signal: stop.signal,
    });
    dbs = new BenchDatabases(cluster);
    await waitForTopic(bus, stockTopic, stop.signal);

    const warehouses: Warehouse[] = cluster.regions.flatMap(({ id, url }) =>
      Array.from({ length: WAREHOUSES_PER_REGION }, (_, n) => ({ id: `bench-${id}-${n + 1}`, region: id, url })),
    );
    for (const w of warehouses) {
      const result = await send('PUT', `${w.url}/v1/warehouses/${w.id}`, { region: w.region, name: `Bench ${w.id}` }, 201);
      if (!result.ok) throw new Error(`could not register warehouse ${w.id}: ${result.error}`);
    }
    say(`registered ${warehouses.length} warehouses`);

    const p1 = await convergencePhase(settings, warehouses, dbs, stop.signal);
    stop.signal.throwIfAborted();
    const anchor = await anchorPhase(bus, `${topicPrefix}anchor`, settings, hex, stop.signal);
    stop.signal.throwIfAborted();
    const p2 = await backlogPhase(settings, cluster, warehouses, dbs, bus, stockTopic, stop.signal);
    stop.signal.throwIfAborted();

    const quantiles = (values: readonly number[]): string => [50, 95, 99].map((p) => `p${p} ${ms(percentile(values, p))}`).join(', ');
    console.log('\nConvergence benchmark');
    console.log(
      table([
        ['phase 1 target', `${settings.rate} writes/s for ${settings.seconds} s, ${MAX_IN_FLIGHT} in flight at most`],
        ['writes acknowledged', `${p1.acknowledged} of ${p1.attempted} (${p1.failed} failed, ${p1.sentLate} sent >10 ms late)`],
        ['achieved write rate', `${p1.achievedRate.toFixed(1)} writes/s`],
        ['write latency', quantiles(p1.writeLatency)],
        ['convergence', `${quantiles(p1.convergence)}, max ${ms(p1.convergence.at(-1) ?? Number.NaN)}`],
        ['never converged', `${p1.neverConverged} (within ${CONVERGE_TIMEOUT_MS / 1000} s)`],
        [
          'anchor: raw kafkajs produce→consume',
          `${quantiles(anchor.latency)} at ${settings.rate} records/s (${anchor.received} of ${anchor.sent} consumed; fetch wait ${ANCHOR_MAX_WAIT_MS} ms)`,
        ],
        [
          'convergence p99 / anchor p99',
          `${(percentile(p1.convergence, 99) / percentile(anchor.latency, 99)).toFixed(1)}× (issue 10's goal: ≤ 3× at half the top write rate)`,
        ],
        [
          'phase 2 backlog',
          `${p2.written} of ${settings.backlog} adjustments at ${p2.writeRate.toFixed(0)}/s (${p2.failed} failed; writing stops after ${BACKLOG_WRITE_TIMEOUT_MS / 1000} s)`,
        ],
        [`${STOPPED_REGION} restart`, `ready after ${p2.restartS.toFixed(1)} s, ${p2.pendingAtReady} events pending then`],
        ['first apply after ready', Number.isNaN(p2.firstApplyS) ? 'never' : `${p2.firstApplyS.toFixed(2)} s`],
        [
          'caught up after ready',
          p2.caughtUp ? `${p2.catchUpS.toFixed(2)} s` : `no, still behind after ${(CATCH_UP_TIMEOUT_MS / 1000).toFixed(0)} s`,
        ],
        ['apply rate', p2.caughtUp ? `${(p2.pendingAtReady / p2.catchUpS).toFixed(0)} events/s from ready` : 'n/a'],
        [
          'apply rate once applying',
          p2.caughtUp ? `${(p2.pendingAtReady / (p2.catchUpS - p2.firstApplyS)).toFixed(0)} events/s from the first apply` : 'n/a',
        ],
      ]),
    );
    const [postgres] = await dbs.query<{ server_version: string }>(REGIONS[0], 'SHOW server_version');
    console.log('\nMachine');
    console.log(table(machine(postgres.server_version)));
  } finally {
    await dbs?.close();
    if (cluster) await cluster.stop();
    log.end();
    say('dropping the bench databases');
    await dropDatabases(databaseUrls);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof Error && error.name === 'AbortError') {
      say('stopped before the end: no figures');
      process.exit(130);
    }
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
