// `npm run bench:reservations`: how many reservations (POST /v1/reservations) a three-region local
// cluster (or one region alone, BENCH_REGIONS=1) makes per second, and how far that is from what PostgreSQL itself does with the same
// statements (pgbench). Starts its own cluster on throwaway databases, topics and ports, prints
// figures, then stops the cluster and drops the databases (also on error or Ctrl-C). A script that
// measures, not a test: it asserts nothing about timings.
//
//   BENCH_SECONDS      measured seconds per checkout scenario and per pgbench run (default 15)
//   BENCH_CONCURRENCY  checkout requests in flight, over all regions (default 32)
//   BENCH_PGBENCH_CLIENTS  pgbench connections (default 8, with 2 threads)
//   BENCH_SCENARIOS    which checkout scenarios to run, e.g. `a,c` (default a,b,c)
//   BENCH_REGIONS      how many regions run (1 to 3, default 3): 1 measures us-east alone, every
//                      hold local (scenario (b)'s three lines are then all its own)
//   BENCH_JSON         where to write the results as JSON (default .stockmesh/bench/reservations-<time>.json)
//   BENCH_CPU_PROF     a directory: the regions run under `node --cpu-prof` and write their profiles there
//                      (summarise with node bench/profile-summary.mjs <file>)

// First: @stockmesh/contracts decorates its event classes at import time and needs the polyfill.
import 'reflect-metadata';
import { EVENT_TYPES, HEADERS, newEvent, toKafkaRecord, type StockChangedData } from '@stockmesh/contracts';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  clusterCpuMeter,
  CpuMeter,
  ensureBroker,
  grid,
  HttpClient,
  interruptSignal,
  machine,
  ms,
  percentile,
  pgbenchCommand,
  positiveInt,
  runId,
  runMain,
  runPgbench,
  say,
  table,
  transactionsEnded,
  withBenchCluster,
  type BenchCluster,
  type PgbenchResult,
  type PgbenchRun,
  sayLoad,
} from './bench-support.js';

const ALL_REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
/** The regions this run starts (BENCH_REGIONS, the first n of ALL_REGIONS). */
const REGIONS = ALL_REGIONS.slice(0, regionCount());

function regionCount(): number {
  const n = positiveInt('BENCH_REGIONS', ALL_REGIONS.length);
  if (n > ALL_REGIONS.length) throw new RangeError(`BENCH_REGIONS must be 1 to ${ALL_REGIONS.length}, got ${n}`);
  return n;
}
const WAREHOUSES_PER_REGION = 2;
/** Cold SKUs: each in one warehouse, spread evenly over all six; nothing else touches them. */
const COLD_SKUS = 2_000;
const COLD_UNITS = 100_000;
/** Hot SKUs: each in every warehouse; every region's checkouts meet on them. */
const HOT_SKUS = 5;
const HOT_UNITS = 1_000_000;
/** Each scenario first runs this long unmeasured (JIT, connection pools, caches). */
const WARMUP_SECONDS = 2;
const SETUP_IN_FLIGHT = 32;
/** How long the idle cluster's own CPU use is measured before the scenarios. */
const IDLE_SECONDS = 5;
const REQUEST_TIMEOUT_MS = 10_000;
const VISIBLE_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 60_000;
/** POST /v1/availability/query takes at most this many SKUs (MAX_SKUS_PER_QUERY in libs/stock). */
const SKUS_PER_QUERY = 500;
const PGBENCH_THREADS = 2;
/** Rows the pgbench scripts spread over: PGB-0 .. PGB-(n-1) of one warehouse, like the cold SKUs. */
const PGBENCH_WAREHOUSE = 'pgb-cold';
const PGBENCH_UNITS = 1_000_000_000;

interface Settings {
  readonly seconds: number;
  readonly concurrency: number;
  readonly pgbenchClients: number;
  readonly scenarios: readonly string[];
  readonly json: string;
  /** BENCH_CPU_PROF: a directory the regions write `node --cpu-prof` profiles to. */
  readonly profileDir?: string;
}

/** How often a measured run prints how far it got. */
const PROGRESS_EVERY_MS = 5_000;

interface Warehouse {
  readonly id: string;
  readonly region: string;
  readonly url: string;
}

interface Line {
  readonly sku: string;
  readonly quantity: number;
}

interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly linesPerCart: number;
  /** The `k`-th cart sent to region `r` (index into REGIONS). */
  cart(r: number, k: number): Line[];
}

/** One checkout as the client saw it. */
interface Outcome {
  readonly region: number;
  readonly status: number;
  /** The problem code of a refusal, or the client's error. */
  readonly reason?: string;
  readonly latencyMs: number;
}

interface RegionFigures {
  readonly region: string;
  readonly created: number;
  readonly perSecond: number;
  readonly conflicts: number;
  readonly other: number;
  readonly latency: readonly number[];
}

interface ScenarioFigures {
  readonly scenario: Scenario;
  readonly seconds: number;
  readonly regions: readonly RegionFigures[];
  readonly all: RegionFigures;
  readonly otherReasons: ReadonlyMap<string, number>;
  readonly cores: ReadonlyMap<string, number>;
  /** How long the outboxes took to empty after the last answer: replication catching up. */
  readonly drainS: number;
  /** 201s received, warm-up included, for the consistency check. */
  readonly linesHeld: number;
  /**
   * Transactions committed or rolled back in the cluster's databases from the measured seconds'
   * start until the outboxes drained, plus 1.5 s (PostgreSQL's pg_stat_database, each autocommit
   * statement counting as one), per answered request: the saga's and the owners' own, and
   * everything else the cluster did meanwhile (replicas applying, relays, sweepers).
   */
  readonly transactionsPerRequest: number;
}

/** Direct access to the cluster's databases, for what the API does not show. */
async function queryAll<T extends pg.QueryResultRow>(urls: readonly string[], sql: string): Promise<T[]> {
  const rows = await Promise.all(
    urls.map(async (url) => {
      const client = new pg.Client({ connectionString: url, application_name: 'stockmesh bench' });
      await client.connect();
      try {
        return (await client.query<T>(sql)).rows;
      } finally {
        await client.end();
      }
    }),
  );
  return rows.flat();
}

/** Runs `task(i)` for i < count with at most `inFlight` at once, until aborted; collects failures. */
async function bounded(
  count: number,
  inFlight: number,
  signal: AbortSignal,
  task: (i: number) => Promise<string | undefined>,
): Promise<string[]> {
  let next = 0;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count && !signal.aborted; i = next++) {
      const failure = await task(i);
      if (failure) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  signal.throwIfAborted();
  return failures;
}

interface Stocked {
  readonly sku: string;
  readonly rows: readonly { readonly warehouse: Warehouse; readonly units: number }[];
}

/** Registers the warehouses and stocks every SKU at its owner. */
async function stockEverything(
  http: HttpClient,
  warehouses: readonly Warehouse[],
  stocked: readonly Stocked[],
  signal: AbortSignal,
): Promise<void> {
  for (const w of warehouses) {
    const result = await http.send('PUT', `${w.url}/v1/warehouses/${w.id}`, { region: w.region, name: `Bench ${w.id}` });
    if (result.status !== 201)
      throw new Error(`could not register warehouse ${w.id}: HTTP ${result.status} ${result.error ?? result.body}`);
  }
  const puts = stocked.flatMap((s) => s.rows.map((row) => ({ sku: s.sku, ...row })));
  say(`registered ${warehouses.length} warehouses; stocking ${stocked.length} SKUs (${puts.length} rows)`);
  const started = performance.now();
  const failures = await bounded(puts.length, SETUP_IN_FLIGHT, signal, async (i) => {
    const { sku, warehouse, units } = puts[i];
    const result = await http.send('PUT', `${warehouse.url}/v1/warehouses/${warehouse.id}/stock/${sku}`, { onHand: units });
    return result.status === 200 ? undefined : `${warehouse.id}/${sku}: HTTP ${result.status} ${result.error ?? result.body.slice(0, 200)}`;
  });
  if (failures.length > 0) throw new Error(`${failures.length} stock counts failed, e.g. ${failures[0]}`);
  say(`stocked ${puts.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Waits (bounded) until every region's global view shows every stocked row with all its units. */
async function waitUntilVisible(
  http: HttpClient,
  urls: readonly string[],
  stocked: readonly Stocked[],
  signal: AbortSignal,
): Promise<void> {
  const started = performance.now();
  let missing = Number.POSITIVE_INFINITY;
  while (missing > 0) {
    missing = 0;
    for (const url of urls) {
      for (let from = 0; from < stocked.length; from += SKUS_PER_QUERY) {
        const chunk = stocked.slice(from, from + SKUS_PER_QUERY);
        const result = await http.send('POST', `${url}/v1/availability/query`, { skus: chunk.map((s) => s.sku) });
        if (result.status !== 200) throw new Error(`availability query at ${url}: HTTP ${result.status} ${result.error ?? result.body}`);
        const { items } = JSON.parse(result.body) as { items: { sku: string; warehouses: { warehouseId: string; available: number }[] }[] };
        for (const [i, item] of items.entries()) {
          for (const row of chunk[i].rows) {
            if (!item.warehouses.some((w) => w.warehouseId === row.warehouse.id && w.available === row.units)) missing++;
          }
        }
      }
    }
    if (missing === 0) break;
    if (performance.now() - started > VISIBLE_TIMEOUT_MS)
      throw new Error(`${missing} stocked rows still not visible in every region after ${VISIBLE_TIMEOUT_MS / 1000} s`);
    await sleep(500, undefined, { signal });
  }
  say(`every region shows every row after ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Closed loop: `concurrency` workers, each sending its next checkout as soon as its last one
 * is answered, for `seconds`. Requests go to the regions in turn.
 */
async function drive(
  http: HttpClient,
  urls: readonly string[],
  scenario: Scenario,
  seconds: number,
  concurrency: number,
  signal: AbortSignal,
): Promise<{ outcomes: Outcome[]; seconds: number }> {
  const outcomes: Outcome[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let next = 0;
  // Progress for runs long enough to wonder about (the warm-up is not).
  const progress =
    seconds * 1000 > PROGRESS_EVERY_MS
      ? setInterval(() => {
          const elapsed = (performance.now() - start) / 1000;
          const created = outcomes.filter((o) => o.status === 201).length;
          say(
            `  ${scenario.name} ${elapsed.toFixed(0)} of ${seconds} s: ${outcomes.length} answered, ${created} created, ${(created / elapsed).toFixed(1)}/s`,
          );
        }, PROGRESS_EVERY_MS)
      : undefined;
  const worker = async (): Promise<void> => {
    while (performance.now() < end && !signal.aborted) {
      const i = next++;
      const region = i % urls.length;
      const result = await http.send(
        'POST',
        `${urls[region]}/v1/reservations`,
        { lines: scenario.cart(region, Math.floor(i / urls.length)) },
        { [HEADERS.idempotencyKey]: randomUUID() },
      );
      let reason = result.error;
      if (result.status !== 201 && !reason) {
        try {
          reason = (JSON.parse(result.body) as { code?: string }).code ?? `HTTP ${result.status}`;
        } catch {
          reason = `HTTP ${result.status} ${result.body.slice(0, 80)}`;
        }
      }
      outcomes.push({
        region,
        status: result.status,
        latencyMs: result.latencyMs,
        ...(reason ? { reason: `${result.status} ${reason}` } : {}),
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearInterval(progress);
  }
  return { outcomes, seconds: (performance.now() - start) / 1000 };
}

function figuresOf(region: string, outcomes: readonly Outcome[], seconds: number): RegionFigures {
  const created = outcomes.filter((o) => o.status === 201);
  return {
    region,
    created: created.length,
    perSecond: created.length / seconds,
    conflicts: outcomes.filter((o) => o.status === 409).length,
    other: outcomes.filter((o) => o.status !== 201 && o.status !== 409).length,
    latency: created.map((o) => o.latencyMs).sort((a, b) => a - b),
  };
}

/** Waits (bounded) until every outbox is empty: every hold so far has been published. */
async function drain(urls: readonly string[], signal: AbortSignal): Promise<number> {
  const started = performance.now();
  for (;;) {
    const rows = await queryAll<{ n: number }>(urls, 'SELECT count(*)::int AS n FROM outbox');
    if (rows.every((r) => r.n === 0)) return (performance.now() - started) / 1000;
    if (performance.now() - started > DRAIN_TIMEOUT_MS) return Number.NaN;
    await sleep(100, undefined, { signal });
  }
}

async function runScenario(
  scenario: Scenario,
  settings: Settings,
  http: HttpClient,
  urls: readonly string[],
  databaseUrls: readonly string[],
  cpu: CpuMeter,
  signal: AbortSignal,
): Promise<ScenarioFigures> {
  say(
    `${scenario.name}: ${scenario.title}; warming up ${WARMUP_SECONDS} s, then ${settings.seconds} s measured, ${settings.concurrency} in flight`,
  );
  const warmup = await drive(http, urls, scenario, WARMUP_SECONDS, settings.concurrency, signal);
  signal.throwIfAborted();
  const transactionsBefore = await transactionsEnded(databaseUrls);
  const before = cpu.sample();
  const run = await drive(http, urls, scenario, settings.seconds, settings.concurrency, signal);
  const after = cpu.sample();
  signal.throwIfAborted();
  const drainS = await drain(databaseUrls, signal);
  // After the drain (replicating the requests' changes is part of their cost); the statistics of
  // the last transactions arrive within about a second.
  await sleep(1_500, undefined, { signal });
  const transactions = (await transactionsEnded(databaseUrls)) - transactionsBefore;
  const otherReasons = new Map<string, number>();
  for (const o of run.outcomes)
    if (o.status !== 201 && o.status !== 409) otherReasons.set(o.reason ?? '?', (otherReasons.get(o.reason ?? '?') ?? 0) + 1);
  const held = [...warmup.outcomes, ...run.outcomes].filter((o) => o.status === 201).length;
  return {
    scenario,
    seconds: run.seconds,
    regions: REGIONS.map((region, r) =>
      figuresOf(
        region,
        run.outcomes.filter((o) => o.region === r),
        run.seconds,
      ),
    ),
    all: figuresOf('all', run.outcomes, run.seconds),
    otherReasons,
    cores: CpuMeter.cores(before, after),
    drainS,
    linesHeld: held * scenario.linesPerCart,
    transactionsPerRequest: transactions / Math.max(1, run.outcomes.length),
  };
}

const quantileCells = (sorted: readonly number[]): string[] => [50, 95, 99].map((p) => ms(percentile(sorted, p)));

function printScenario(f: ScenarioFigures): void {
  console.log(`\n${f.scenario.name}: ${f.scenario.title} (${f.seconds.toFixed(1)} s measured)`);
  console.log(
    grid(
      ['region', '201/s', '201', '409', 'other', 'p50 (201)', 'p95', 'p99'],
      [...f.regions, f.all].map((r) => [
        r.region,
        r.perSecond.toFixed(1),
        String(r.created),
        String(r.conflicts),
        String(r.other),
        ...quantileCells(r.latency),
      ]),
    ),
  );
  if (f.otherReasons.size > 0)
    console.log(
      `  other answers: ${[...f.otherReasons]
        .map(([reason, n]) => `${n} × ${reason}`)
        .join('; ')
        .slice(0, 600)}`,
    );
  console.log(`  CPU, cores used of ${availableParallelism()}: ${CpuMeter.describe(f.cores)}`);
  console.log(`  database transactions per answered request, whole cluster: ${f.transactionsPerRequest.toFixed(1)}`);
  console.log(
    `  outboxes empty ${Number.isNaN(f.drainS) ? `not within ${DRAIN_TIMEOUT_MS / 1000} s` : `${f.drainS.toFixed(1)} s`} after the last answer`,
  );
}

/** A stock.changed record of the real shape and size, for the outbox rows pgbench writes. */
function sampleOutboxRecord(): { headers: string; value: string } {
  const now = new Date().toISOString();
  const data: StockChangedData = {
    warehouseId: 'bres-us-east-1',
    sku: 'C-0000',
    region: 'us-east',
    shard: 7,
    onHand: COLD_UNITS,
    reserved: 42,
    version: 43,
    updatedAt: now,
    cause: { kind: 'hold', delta: 0, reason: 'reservation', movementId: randomUUID(), actor: `reservation:us-east.${randomUUID()}` },
  };
  const event = newEvent({
    source: 'us-east',
    type: EVENT_TYPES.stockChanged,
    time: now,
    subject: `warehouses/${data.warehouseId}/stock/${data.sku}`,
    data,
  });
  const record = toKafkaRecord(event, data.sku);
  return { headers: JSON.stringify(record.headers), value: record.value };
}

/** A 201 reservation answer of the real shape, stored by `decide` for replay. */
function sampleAnswer(): string {
  const now = new Date();
  return JSON.stringify({
    id: `us-east.${randomUUID()}`,
    status: 'held',
    expiresAt: new Date(now.getTime() + 900_000).toISOString(),
    reference: null,
    allocations: [{ sku: 'C-0000', warehouseId: 'bres-us-east-1', region: 'us-east', quantity: 1 }],
    createdAt: now.toISOString(),
  });
}

interface PgbenchFigures {
  readonly name: string;
  readonly run: Omit<PgbenchRun, 'signal'>;
  readonly result: PgbenchResult;
  readonly cores: ReadonlyMap<string, number>;
}

/**
 * The ceiling: pgbench on one of the cluster's shard databases (the regions stopped, so the
 * outbox rows it writes are not published and nothing else competes), with the statement a
 * hold turns on, the owner's whole hold transaction, and every statement of a reservation.
 */
async function pgbenchCeiling(settings: Settings, databaseUrl: string, cpu: CpuMeter, signal: AbortSignal): Promise<PgbenchFigures[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'stockmesh bench' });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO stock (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at)
       SELECT $1, 'PGB-' || i, 0, 'us-east', $2, 0, 1, now() FROM generate_series(0, $3 - 1) AS i`,
      [PGBENCH_WAREHOUSE, PGBENCH_UNITS, COLD_SKUS],
    );
    await client.query('VACUUM ANALYZE stock');
  } finally {
    await client.end();
  }
  const { headers, value } = sampleOutboxRecord();
  const base = { databaseUrl, clients: settings.pgbenchClients, threads: PGBENCH_THREADS, seconds: settings.seconds };
  const cold = { w: PGBENCH_WAREHOUSE, n: String(COLD_SKUS) };
  const hot = { w: PGBENCH_WAREHOUSE, n: '1' };
  const runs: { name: string; run: Omit<PgbenchRun, 'signal'> }[] = [
    { name: 'UPDATE alone, cold rows', run: { ...base, script: 'bench/pgbench/hold.sql', variables: cold } },
    { name: 'UPDATE alone, one hot row', run: { ...base, script: 'bench/pgbench/hold.sql', variables: hot } },
    {
      name: 'owner hold transaction, cold rows',
      run: { ...base, script: 'bench/pgbench/hold-transaction.sql', variables: { ...cold, headers, value } },
    },
    {
      // The outbox trigger's NOTIFY takes a server-wide lock at commit (see BENCHMARKS.md); the
      // replica role skips ordinary triggers, and the outbox trigger is the only one on these tables.
      name: 'owner hold transaction, cold, no NOTIFY',
      run: {
        ...base,
        script: 'bench/pgbench/hold-transaction.sql',
        variables: { ...cold, headers, value },
        pgOptions: '-c session_replication_role=replica',
      },
    },
    {
      name: 'owner hold transaction, one hot row',
      run: { ...base, script: 'bench/pgbench/hold-transaction.sql', variables: { ...hot, headers, value } },
    },
    {
      name: 'all SQL of a 1-line local cart, cold',
      run: { ...base, script: 'bench/pgbench/saga.sql', variables: { ...cold, headers, value, answer: sampleAnswer() } },
    },
    {
      // What named prepared statements would spare the database (parse and plan per statement).
      name: 'all SQL of a 1-line local cart, cold, prepared',
      run: { ...base, mode: 'prepared', script: 'bench/pgbench/saga.sql', variables: { ...cold, headers, value, answer: sampleAnswer() } },
    },
    {
      // One at a time: the database's share of one reservation's latency, without queueing.
      name: 'all SQL of a 1-line local cart, 1 client',
      run: {
        ...base,
        clients: 1,
        threads: 1,
        script: 'bench/pgbench/saga.sql',
        variables: { ...cold, headers, value, answer: sampleAnswer() },
      },
    },
  ];
  const figures: PgbenchFigures[] = [];
  for (const { name, run } of runs) {
    say(`pgbench: ${name}: ${pgbenchCommand(run)}`);
    const running = runPgbench({ ...run, signal });
    // pgbench's connections (and their server processes) end with the run: sample while they live.
    const lead = Math.min(1, run.seconds * 0.2);
    await sleep(lead * 1000, undefined, { signal });
    const before = cpu.sample();
    await sleep((run.seconds - lead - Math.min(0.5, run.seconds * 0.1)) * 1000, undefined, { signal });
    const cores = CpuMeter.cores(before, cpu.sample());
    figures.push({ name, run, result: await running, cores });
  }
  return figures;
}

/** Per-statement averages of a pgbench run, grouped: what the database spends its time on. */
function statementBreakdown(result: PgbenchResult): string {
  const groups = new Map<string, { ms: number; n: number }>();
  for (const s of result.statements) {
    if (s.command.startsWith('\\')) continue;
    const kind = /^START TRANSACTION/.test(s.command)
      ? 'START'
      : s.command.startsWith('COMMIT')
        ? 'COMMIT'
        : s.command.split(/\s+/).slice(0, 3).join(' ');
    const g = groups.get(kind) ?? { ms: 0, n: 0 };
    groups.set(kind, { ms: g.ms + s.ms, n: g.n + 1 });
  }
  return [...groups].map(([kind, g]) => `${kind}${g.n > 1 ? ` (×${g.n})` : ''} ${g.ms.toFixed(2)} ms`).join(', ');
}

async function main(): Promise<void> {
  const settings: Settings = {
    seconds: positiveInt('BENCH_SECONDS', 15),
    concurrency: positiveInt('BENCH_CONCURRENCY', 32),
    pgbenchClients: positiveInt('BENCH_PGBENCH_CLIENTS', 8),
    scenarios: scenarioNames(process.env.BENCH_SCENARIOS ?? 'a,b,c'),
    json: process.env.BENCH_JSON ?? `.stockmesh/bench/reservations-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    ...(process.env.BENCH_CPU_PROF ? { profileDir: resolve(process.env.BENCH_CPU_PROF) } : {}),
  };
  const signal = interruptSignal();
  sayLoad();
  await ensureBroker();
  const hex = runId();
  const http = new HttpClient(settings.concurrency + SETUP_IN_FLIGHT, REQUEST_TIMEOUT_MS);
  const cpu = clusterCpuMeter();
  try {
    await withBenchCluster(
      {
        dbPrefix: `smbres_${hex}`,
        topicPrefix: `bres-${hex}.`,
        regions: REGIONS,
        portsFrom: 4900,
        // Profiles are written when the regions stop (before pgbench runs).
        ...(settings.profileDir ? { env: { BENCH_CPU_PROF: settings.profileDir }, entry: 'dist/bench/profiled-region.js' } : {}),
        signal,
      },
      (bench) => measure(bench, settings, http, cpu, signal),
    );
  } finally {
    http.close();
  }
}

async function measure(bench: BenchCluster, settings: Settings, http: HttpClient, cpu: CpuMeter, signal: AbortSignal): Promise<void> {
  const { cluster } = bench;
  const urls = REGIONS.map((id) => cluster.regions.find((r) => r.id === id)!.url);
  const warehouses: Warehouse[] = REGIONS.flatMap((region, r) =>
    Array.from({ length: WAREHOUSES_PER_REGION }, (_, n) => ({ id: `bres-${region}-${n + 1}`, region, url: urls[r] })),
  );
  const cold: Stocked[] = Array.from({ length: COLD_SKUS }, (_, j) => ({
    sku: `C-${String(j).padStart(4, '0')}`,
    rows: [{ warehouse: warehouses[j % warehouses.length], units: COLD_UNITS }],
  }));
  const hot: Stocked[] = Array.from({ length: HOT_SKUS }, (_, h) => ({
    sku: `H-${h}`,
    rows: warehouses.map((warehouse) => ({ warehouse, units: HOT_UNITS })),
  }));
  await stockEverything(http, warehouses, [...cold, ...hot], signal);
  await waitUntilVisible(http, urls, [...cold, ...hot], signal);
  // What the cluster costs doing nothing (polling consumers, relays, sweepers): the floor under every figure.
  await sleep(1000, undefined, { signal });
  const idleFrom = cpu.sample();
  await sleep(IDLE_SECONDS * 1000, undefined, { signal });
  const idle = CpuMeter.cores(idleFrom, cpu.sample());
  say(`idle cluster, cores used of ${availableParallelism()}: ${CpuMeter.describe(idle)}`);

  // The cold SKUs of each region's warehouses. A cart's lines start a third of the list apart,
  // so that two regions' carts do not reach for the same row at the same moment.
  const coldOf = REGIONS.map((region) => cold.filter((s) => s.rows[0].warehouse.region === region).map((s) => s.sku));
  const third = Math.floor(coldOf[0].length / 3);
  const pick = (r: number, k: number): string => coldOf[r][k % coldOf[r].length];
  const scenarios: Scenario[] = [
    {
      name: '(a)',
      title: '1-line carts, cold SKUs of the region asked (a local hold)',
      linesPerCart: 1,
      cart: (r, k) => [{ sku: pick(r, k), quantity: 1 }],
    },
    {
      name: '(b)',
      title:
        REGIONS.length === 1
          ? '3-line carts, cold SKUs of the one region (3 local holds)'
          : "3-line carts, cold SKUs, one in each region's warehouses (1 local + 2 remote holds)",
      linesPerCart: 3,
      cart: (r, k) => [0, 1, 2].map((j) => ({ sku: pick((r + j) % REGIONS.length, k + j * third), quantity: 1 })),
    },
    {
      name: '(c)',
      title: `1-line carts, ${HOT_SKUS} hot SKUs stocked in every warehouse`,
      linesPerCart: 1,
      cart: (_, k) => [{ sku: hot[k % HOT_SKUS].sku, quantity: 1 }],
    },
  ];
  const figures: ScenarioFigures[] = [];
  for (const scenario of scenarios.filter((s) => settings.scenarios.includes(s.name))) {
    const f = await runScenario(scenario, settings, http, urls, bench.databaseUrls, cpu, signal);
    printScenario(f);
    figures.push(f);
  }

  // Not an assertion: a cross-check that every 201 is one hold per line at the owners, and nothing more.
  const reservedRows = await queryAll<{ n: string }>(bench.databaseUrls, 'SELECT coalesce(sum(reserved), 0)::bigint AS n FROM stock');
  const reserved = reservedRows.reduce((sum, r) => sum + Number(r.n), 0);
  const homes = cluster.config.regions.map((r) => r.databases[0].url);
  const statuses = await queryAll<{ status: string; n: number }>(
    homes,
    'SELECT status, count(*)::int AS n FROM reservations GROUP BY status',
  );
  const byStatus = new Map<string, number>();
  for (const s of statuses) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + s.n);
  const linesHeld = figures.reduce((sum, f) => sum + f.linesHeld, 0);
  const [postgres] = await queryAll<{ server_version: string }>([homes[0]], 'SHOW server_version');

  // pgbench with the regions stopped: the outbox rows it writes are then not published, and it
  // has the machine to itself (the broker aside).
  say("stopping the regions; pgbench runs on the stopped cluster's us-east home database");
  await cluster.stop();
  const ceiling = await pgbenchCeiling(settings, homes[0], cpu, signal);

  console.log('\nReservations benchmark: POST /v1/reservations, quantity 1, fresh Idempotency-Key each');
  console.log(
    grid(
      ['scenario', 'reservations/s', 'holds/s', '409', 'other', 'p50', 'p95', 'p99', 'regions CPU', 'postgres CPU'],
      figures.map((f) => [
        `${f.scenario.name} ${f.scenario.linesPerCart}-line ${f.scenario.name === '(c)' ? 'hot' : 'cold'}`,
        f.all.perSecond.toFixed(1),
        (f.all.perSecond * f.scenario.linesPerCart).toFixed(1),
        String(f.all.conflicts),
        String(f.all.other),
        ...quantileCells(f.all.latency),
        (f.cores.get('regions') ?? 0).toFixed(2),
        (f.cores.get('postgresql') ?? 0).toFixed(2),
      ]),
    ),
  );
  console.log(
    `  cross-check: ${linesHeld} lines held per the 201s received (warm-ups included); ${reserved} units reserved at the owners; reservations by status: ${[
      ...byStatus,
    ]
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
  );

  console.log(
    `\nThe ceiling: pgbench on one shard database (${settings.pgbenchClients} clients and ${PGBENCH_THREADS} threads unless said, -M extended)`,
  );
  console.log(
    grid(
      ['run', 'tps', 'latency avg', 'p50', 'p95', 'p99', 'failed', 'postgres CPU', 'pgbench CPU'],
      ceiling.map((c) => [
        c.name,
        c.result.tps.toFixed(0),
        ms(c.result.latencyAvgMs),
        ...quantileCells(c.result.latenciesMs),
        String(c.result.failed),
        (c.cores.get('postgresql') ?? 0).toFixed(2),
        (c.cores.get('pgbench') ?? 0).toFixed(2),
      ]),
    ),
  );
  for (const c of ceiling.filter((c) => c.run.script !== 'bench/pgbench/hold.sql'))
    console.log(`  ${c.name}, per statement: ${statementBreakdown(c.result)}`);

  const tps = (script: string, variables?: string): number =>
    ceiling.find((c) => c.run.script === script && (variables === undefined || c.name.includes(variables)))?.result.tps ?? Number.NaN;
  const scenario = (name: string): ScenarioFigures | undefined => figures.find((f) => f.scenario.name === name);
  const [a, b, c] = [scenario('(a)'), scenario('(b)'), scenario('(c)')];
  const holdTx = tps('bench/pgbench/hold-transaction.sql', 'cold rows');
  const hotTx = tps('bench/pgbench/hold-transaction.sql', 'hot row');
  const serialSql = ceiling.find((c) => c.run.script === 'bench/pgbench/saga.sql' && c.run.clients === 1);
  const sagaSql = ceiling.find((c) => c.run.script === 'bench/pgbench/saga.sql' && c.run.clients !== 1 && c.run.mode !== 'prepared');
  const preparedSql = ceiling.find((c) => c.run.script === 'bench/pgbench/saga.sql' && c.run.mode === 'prepared');
  /** Milliseconds of CPU per unit of work, from cores used and units per second. */
  const cpuMs = (cores: number | undefined, perSecond: number | undefined): string =>
    cores === undefined || !perSecond ? 'n/a' : `${((cores / perSecond) * 1000).toFixed(2)} ms`;
  const ratio = (figure: number, ceilingTps: number): string => `${(figure / ceilingTps).toFixed(3)}× of ${ceilingTps.toFixed(0)}/s`;
  const rows: [string, string][] = [];
  if (a) {
    rows.push(
      [
        '(a) vs all its SQL',
        `${a.all.perSecond.toFixed(1)} reservations/s over HTTP: ${ratio(a.all.perSecond, tps('bench/pgbench/saga.sql'))} (the same SQL in pgbench)`,
      ],
      ['(a) vs the owner transaction', `${a.all.perSecond.toFixed(1)} holds/s: ${ratio(a.all.perSecond, holdTx)} (issue 10 goal: 1.0×)`],
      ['(a) vs the UPDATE alone', `${ratio(a.all.perSecond, tps('bench/pgbench/hold.sql', 'cold rows'))} (stretch goal: 0.5×)`],
      [
        // CPU per reservation, where a figure per second hides it: the whole cluster's databases
        // over HTTP (background work included), PostgreSQL's alone for the same SQL in pgbench.
        '(a) database CPU per reservation',
        `${cpuMs(a.cores.get('postgresql'), a.all.perSecond)} over HTTP, ${cpuMs(sagaSql?.cores.get('postgresql'), sagaSql?.result.tps)} in pgbench (extended), ${cpuMs(preparedSql?.cores.get('postgresql'), preparedSql?.result.tps)} prepared; regions ${cpuMs(a.cores.get('regions'), a.all.perSecond)}`,
      ],
      [
        '(a) p50 vs its SQL alone',
        `${ms(percentile(a.all.latency, 50))} over HTTP (${settings.concurrency} in flight), ${ms(percentile(serialSql?.result.latenciesMs ?? [], 50))} for its SQL in pgbench with 1 client`,
      ],
    );
  }
  if (b) {
    const bHolds = b.all.perSecond * b.scenario.linesPerCart;
    rows.push(['(b) holds vs the owner transaction', `${bHolds.toFixed(1)} holds/s: ${ratio(bHolds, holdTx)}`]);
    if (a) rows.push(['(b) holds vs (a)', `${(bHolds / a.all.perSecond).toFixed(2)}× (goal: 0.5×)`]);
  }
  if (c)
    rows.push([
      '(c) vs the hot-row owner transaction',
      `${c.all.perSecond.toFixed(1)} holds/s: ${ratio(c.all.perSecond, hotTx)} (goal: 1.0×)`,
    ]);
  rows.push(['idle cluster CPU', `${CpuMeter.describe(idle)} (cores of ${availableParallelism()}, before the scenarios)`]);
  console.log('\nHTTP against the ceiling');
  console.log(table(rows));

  writeResults(settings, {
    regions: [...REGIONS],
    machine: Object.fromEntries(machine(postgres.server_version)),
    idleCores: Object.fromEntries(idle),
    scenarios: figures.map((f) => ({
      name: f.scenario.name,
      title: f.scenario.title,
      linesPerCart: f.scenario.linesPerCart,
      seconds: f.seconds,
      reservationsPerSecond: f.all.perSecond,
      holdsPerSecond: f.all.perSecond * f.scenario.linesPerCart,
      conflicts: f.all.conflicts,
      other: f.all.other,
      latencyMs: { p50: percentile(f.all.latency, 50), p95: percentile(f.all.latency, 95), p99: percentile(f.all.latency, 99) },
      cores: Object.fromEntries(f.cores),
      transactionsPerRequest: f.transactionsPerRequest,
      drainSeconds: f.drainS,
    })),
    ceiling: ceiling.map((c) => ({ name: c.name, script: c.run.script, clients: c.run.clients, tps: c.result.tps })),
    ratios: Object.fromEntries(rows),
  });

  console.log('\nMachine');
  console.log(
    table([
      ...machine(postgres.server_version),
      [
        'settings',
        `BENCH_SECONDS=${settings.seconds} BENCH_CONCURRENCY=${settings.concurrency} BENCH_PGBENCH_CLIENTS=${settings.pgbenchClients} BENCH_SCENARIOS=${settings.scenarios.join(',')} BENCH_REGIONS=${REGIONS.length} (${REGIONS.join(', ')})`,
      ],
      [
        'region databases',
        `${cluster.config.regions[0].databases.length} per region on one PostgreSQL, pool ${bench.env.STOCKMESH_DB_POOL_SIZE ?? process.env.STOCKMESH_DB_POOL_SIZE ?? 'default (5)'} each`,
      ],
      ['date', new Date().toISOString()],
    ]),
  );
}

/** The scenario names BENCH_SCENARIOS lists (`a,c` or `(a),(c)`), as the scenarios name themselves. */
function scenarioNames(list: string): string[] {
  const names = list
    .split(',')
    .map((n) => n.trim().replace(/^\(?([a-c])\)?$/, '($1)'))
    .filter((n) => n !== '');
  const unknown = names.filter((n) => !['(a)', '(b)', '(c)'].includes(n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`BENCH_SCENARIOS: expected some of a, b, c, got ${JSON.stringify(list)}`);
  return names;
}

/** Writes the run's figures as JSON (for before/after tables and charts), with the commit and settings. */
function writeResults(settings: Settings, results: Record<string, unknown>): void {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '') commit += '+changes';
  } catch {
    // not a git checkout: the commit stays unknown
  }
  mkdirSync(dirname(settings.json), { recursive: true });
  const { json: _path, ...shown } = settings;
  writeFileSync(
    settings.json,
    `${JSON.stringify({ bench: 'reservations', date: new Date().toISOString(), commit, settings: shown, ...results }, null, 2)}\n`,
  );
  say(`results written to ${settings.json}`);
}

runMain(main);
