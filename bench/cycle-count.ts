// `npm run bench:cycle-count`: a full cycle count through `POST /v1/stock/batch`, as an ERP or WMS
// would send it, against a three-region cluster of its own (throwaway databases and topics). Prints
// rows/s, the total time, when every region had converged on the counted rows, and beside them a
// ceiling: the same number of rows upserted straight into the `stock` table with multi-row
// statements over plain pg (no ledger, no events, no HTTP). Then pages through one warehouse with
// `GET /v1/warehouses/{id}/stock` at its owner and at another region. Measures; asserts nothing.
//
//   BENCH_ROWS         rows counted (default 100000), spread evenly over 6 warehouses (2 per region)
//   BENCH_BATCH        rows per request (default 1000, the API's maximum)
//   BENCH_CONCURRENCY  requests in flight (default 3)

// First: the libraries decorate classes at import time and need the polyfill.
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BenchDatabases,
  clusterCpuMeter,
  sayLoad,
  CpuMeter,
  ensureBroker,
  HttpClient,
  interruptSignal,
  machine,
  percentile,
  positiveInt,
  runId,
  runMain,
  say,
  table,
  withBenchCluster,
  type BenchCluster,
} from './bench-support.js';

const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const WAREHOUSES_PER_REGION = 2;
const REQUEST_TIMEOUT_MS = 120_000;
/** How long the regions may take to converge once every batch was answered. */
const CONVERGE_TIMEOUT_MS = 300_000;
const POLL_MS = 250;
const PAGE_LIMIT = 1000;

interface Settings {
  readonly rows: number;
  readonly batch: number;
  readonly concurrency: number;
}

interface Warehouse {
  readonly id: string;
  readonly region: string;
  readonly url: string;
}

interface CountRow {
  readonly warehouseId: string;
  readonly sku: string;
  readonly op: 'set';
  readonly quantity: number;
}

/** The counted quantity of row i: deterministic, so the expected sum per region is known. */
const quantityOf = (i: number): number => (i % 997) + 1;

/** Runs `work(i)` for i in [0, count) with at most `limit` at once. */
async function bounded(count: number, limit: number, signal: AbortSignal, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count && !signal.aborted) await work(next++);
    }),
  );
  signal.throwIfAborted();
}

async function register(http: HttpClient, bench: BenchCluster, warehouses: readonly Warehouse[], signal: AbortSignal): Promise<void> {
  for (const w of warehouses) {
    const result = await http.send('PUT', `${w.url}/v1/warehouses/${w.id}`, { region: w.region, name: `Cycle count ${w.id}` });
    if (result.status !== 201)
      throw new Error(`could not register warehouse ${w.id}: HTTP ${result.status} ${result.error ?? result.body}`);
  }
  // Every region must know every warehouse before a batch sent to it can name them.
  const deadline = Date.now() + 60_000;
  for (const region of bench.cluster.regions) {
    for (;;) {
      const list = await http.send('GET', `${region.url}/v1/warehouses`);
      const known = list.status === 200 ? (JSON.parse(list.body) as { items: { id: string }[] }).items.map((i) => i.id) : [];
      if (warehouses.every((w) => known.includes(w.id))) break;
      if (Date.now() > deadline) throw new Error(`region ${region.id} did not learn every warehouse within 60 s`);
      await sleep(200, undefined, { signal });
    }
  }
}

interface CountResult {
  readonly seconds: number;
  readonly batches: number;
  readonly rowsOk: number;
  readonly rowsFailed: number;
  readonly forwarded: number;
  readonly latencies: readonly number[];
  readonly firstError?: string;
  /** performance.now() at the first request. */
  readonly startedAt: number;
}

async function cycleCount(
  http: HttpClient,
  warehouses: readonly Warehouse[],
  urls: readonly string[],
  settings: Settings,
  signal: AbortSignal,
): Promise<CountResult> {
  // A WMS counts a warehouse at a time: each batch holds rows of one warehouse, and batches go to
  // the three regions in turn, so about two in three are forwarded to the owner.
  const perWarehouse = warehouses.map(() => [] as CountRow[]);
  for (let i = 0; i < settings.rows; i++) {
    const w = i % warehouses.length;
    perWarehouse[w].push({ warehouseId: warehouses[w].id, sku: `CC-${String(i).padStart(7, '0')}`, op: 'set', quantity: quantityOf(i) });
  }
  const batches: CountRow[][] = [];
  for (const rows of perWarehouse)
    for (let from = 0; from < rows.length; from += settings.batch) batches.push(rows.slice(from, from + settings.batch));
  const latencies: number[] = [];
  let rowsOk = 0;
  let rowsFailed = 0;
  let forwarded = 0;
  let firstError: string | undefined;
  say(`counting ${settings.rows} rows in ${batches.length} batches of up to ${settings.batch}, ${settings.concurrency} in flight`);
  const startedAt = performance.now();
  await bounded(batches.length, settings.concurrency, signal, async (b) => {
    const url = urls[b % urls.length];
    const result = await http.send('POST', `${url}/v1/stock/batch`, { rows: batches[b] }, { 'idempotency-key': `cycle-${b}` });
    latencies.push(result.latencyMs);
    if (result.status !== 200 && result.status !== 207) {
      rowsFailed += batches[b].length;
      firstError ??= `batch ${b}: HTTP ${result.status} ${result.error ?? result.body.slice(0, 300)}`;
      return;
    }
    const answer = JSON.parse(result.body) as {
      summary: { succeeded: number; failed: number; forwarded: number };
      results: { status: number; problem?: unknown }[];
    };
    rowsOk += answer.summary.succeeded;
    rowsFailed += answer.summary.failed;
    forwarded += answer.summary.forwarded;
    if (answer.summary.failed > 0) firstError ??= `batch ${b}: ${JSON.stringify(answer.results.find((r) => r.problem)?.problem)}`;
  });
  const seconds = (performance.now() - startedAt) / 1000;
  latencies.sort((a, b) => a - b);
  return { seconds, batches: batches.length, rowsOk, rowsFailed, forwarded, latencies, firstError, startedAt };
}

/**
 * Polls each region's databases until it holds every counted row at its counted quantity: its
 * own warehouses' rows in `stock`, the others' in `stock_replica`. Seconds since the count began.
 */
async function convergence(
  dbs: BenchDatabases,
  warehouses: readonly Warehouse[],
  settings: Settings,
  startedAt: number,
  signal: AbortSignal,
): Promise<Map<string, number | undefined>> {
  const expected = new Map<string, { rows: number; units: number }>(warehouses.map((w) => [w.id, { rows: 0, units: 0 }]));
  for (let i = 0; i < settings.rows; i++) {
    const e = expected.get(warehouses[i % warehouses.length].id)!;
    e.rows++;
    e.units += quantityOf(i);
  }
  const totalRows = settings.rows;
  const totalUnits = [...expected.values()].reduce((s, e) => s + e.units, 0);
  const converged = new Map<string, number | undefined>(REGIONS.map((r) => [r, undefined]));
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  while ([...converged.values()].some((t) => t === undefined) && Date.now() < deadline) {
    for (const region of REGIONS) {
      if (converged.get(region) !== undefined) continue;
      const own = warehouses.filter((w) => w.region === region).map((w) => w.id);
      const others = warehouses.filter((w) => w.region !== region).map((w) => w.id);
      const [a, b] = await Promise.all([
        dbs.query<{ n: string; units: string | null }>(
          region,
          `SELECT count(*) AS n, sum(on_hand) AS units FROM stock WHERE warehouse_id = ANY($1) AND version > 0`,
          [own],
        ),
        dbs.query<{ n: string; units: string | null }>(
          region,
          `SELECT count(*) AS n, sum(on_hand) AS units FROM stock_replica WHERE warehouse_id = ANY($1)`,
          [others],
        ),
      ]);
      const rows = [...a, ...b].reduce((s, r) => s + Number(r.n), 0);
      const units = [...a, ...b].reduce((s, r) => s + Number(r.units ?? 0), 0);
      if (rows === totalRows && units === totalUnits) converged.set(region, (performance.now() - startedAt) / 1000);
    }
    await sleep(POLL_MS, undefined, { signal });
  }
  return converged;
}

/** Seconds to read every row of `warehouse` page by page from the region at `url`. */
async function pageThrough(http: HttpClient, url: string, warehouse: string): Promise<{ seconds: number; rows: number; source: string }> {
  const started = performance.now();
  let path: string | null = `/v1/warehouses/${warehouse}/stock?limit=${PAGE_LIMIT}`;
  let rows = 0;
  let source = '';
  while (path !== null) {
    const result = await http.send('GET', `${url}${path}`);
    if (result.status !== 200) throw new Error(`GET ${path} at ${url}: HTTP ${result.status} ${result.body.slice(0, 200)}`);
    const page = JSON.parse(result.body) as { items: unknown[]; next: string | null; source: string };
    rows += page.items.length;
    source = page.source;
    path = page.next;
  }
  return { seconds: (performance.now() - started) / 1000, rows, source };
}

/**
 * The ceiling: the same rows upserted straight into one region's `stock` tables (each row to the
 * database of its SKU's shard is what the service does; here simply split in two halves, one per
 * database), `settings.batch` rows per multi-row `INSERT ... ON CONFLICT DO UPDATE`, with the
 * same concurrency. No idempotency keys, ledger, events, validation or HTTP: what PostgreSQL alone
 * costs. A warehouse id no region knows, so nothing of it is ever published.
 */
async function ceiling(dbs: BenchDatabases, settings: Settings, signal: AbortSignal): Promise<number> {
  const pools = dbs.databases('us-east');
  const started = performance.now();
  const batches = Math.ceil(settings.rows / settings.batch);
  await bounded(batches, settings.concurrency, signal, async (b) => {
    const from = b * settings.batch;
    const count = Math.min(settings.batch, settings.rows - from);
    const skus = Array.from({ length: count }, (_, k) => `CE-${String(from + k).padStart(7, '0')}`);
    await pools[b % pools.length].query(
      `INSERT INTO stock (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at)
       SELECT 'ceiling', sku, 0, 'us-east', q, 0, 1, now() FROM unnest($1::text[], $2::bigint[]) AS r(sku, q)
       ON CONFLICT (warehouse_id, sku) DO UPDATE SET on_hand = EXCLUDED.on_hand, version = stock.version + 1, updated_at = now()`,
      [skus, skus.map((_, k) => quantityOf(from + k))],
    );
  });
  return (performance.now() - started) / 1000;
}

async function measure(bench: BenchCluster, settings: Settings, signal: AbortSignal): Promise<void> {
  const { cluster } = bench;
  const urls = REGIONS.map((id) => cluster.regions.find((r) => r.id === id)!.url);
  const warehouses: Warehouse[] = REGIONS.flatMap((region, r) =>
    Array.from({ length: WAREHOUSES_PER_REGION }, (_, n) => ({ id: `cyc-${region}-${n + 1}`, region, url: urls[r] })),
  );
  const http = new HttpClient(settings.concurrency + 2, REQUEST_TIMEOUT_MS);
  const dbs = new BenchDatabases(bench.cluster);
  const cpu = clusterCpuMeter();
  try {
    await register(http, bench, warehouses, signal);
    const loadBefore = loadavg()[0];
    const cpuFrom = cpu.sample();
    const count = await cycleCount(http, warehouses, urls, settings, signal);
    const cpuCount = CpuMeter.cores(cpuFrom, cpu.sample());
    say(`count answered after ${count.seconds.toFixed(1)} s; waiting for every region to converge`);
    const converged = await convergence(dbs, warehouses, settings, count.startedAt, signal);
    const cpuAll = CpuMeter.cores(cpuFrom, cpu.sample());
    const owner = warehouses[0];
    const atOwner = await pageThrough(http, owner.url, owner.id);
    const elsewhere = await pageThrough(http, urls[1], owner.id);
    const ceilingSeconds = await ceiling(dbs, settings, signal);
    const [{ server_version: postgres }] = await dbs.query<{ server_version: string }>('us-east', 'SHOW server_version');

    const rate = (rows: number, seconds: number): string => `${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`;
    const lastConverged = Math.max(...[...converged.values()].map((t) => t ?? Number.NaN));
    console.log('\nCycle count through POST /v1/stock/batch');
    console.log(
      table([
        [
          'rows',
          `${settings.rows.toLocaleString('en-US')} in ${count.batches} batches of ${settings.batch}, ${settings.concurrency} in flight`,
        ],
        [
          'rows applied',
          `${count.rowsOk.toLocaleString('en-US')} (${count.rowsFailed} failed; ${count.forwarded.toLocaleString('en-US')} forwarded to their owner)`,
        ],
        ['total time', `${count.seconds.toFixed(1)} s (${rate(count.rowsOk, count.seconds)})`],
        [
          'batch latency',
          `p50 ${percentile(count.latencies, 50).toFixed(0)} ms, p95 ${percentile(count.latencies, 95).toFixed(0)} ms, max ${percentile(count.latencies, 100).toFixed(0)} ms`,
        ],
        ...REGIONS.map((r): [string, string] => [
          `converged: ${r}`,
          converged.get(r) === undefined
            ? `not within ${CONVERGE_TIMEOUT_MS / 1000} s`
            : `${converged.get(r)!.toFixed(1)} s after the first request`,
        ]),
        [
          'every region converged',
          Number.isNaN(lastConverged)
            ? 'no'
            : `${lastConverged.toFixed(1)} s after the first request (${(lastConverged - count.seconds).toFixed(1)} s after the last answer)`,
        ],
        [
          'ceiling (pg upsert only)',
          `${ceilingSeconds.toFixed(1)} s (${rate(settings.rows, ceilingSeconds)}): multi-row INSERT ... ON CONFLICT into one region's stock`,
        ],
        [
          'paging one warehouse',
          `${atOwner.rows} rows: ${atOwner.seconds.toFixed(2)} s at its owner (${atOwner.source}), ${elsewhere.seconds.toFixed(2)} s at eu-west (${elsewhere.source}), ${PAGE_LIMIT} per page`,
        ],
        ['cores during the count', CpuMeter.describe(cpuCount)],
        ['cores until converged', CpuMeter.describe(cpuAll)],
      ]),
    );
    if (count.firstError) console.log(`\nfirst failure: ${count.firstError}`);
    console.log('\nMachine');
    console.log(table([...machine(postgres), ['load average before the count', loadBefore.toFixed(2)]]));
  } finally {
    http.close();
    await dbs.close();
  }
}

async function main(): Promise<void> {
  const settings: Settings = {
    rows: positiveInt('BENCH_ROWS', 100_000),
    batch: positiveInt('BENCH_BATCH', 1_000),
    concurrency: positiveInt('BENCH_CONCURRENCY', 3),
  };
  const signal = interruptSignal();
  sayLoad();
  await ensureBroker();
  const hex = runId();
  await withBenchCluster({ dbPrefix: `smcyc_${hex}`, topicPrefix: `bcyc-${hex}.`, regions: REGIONS, portsFrom: 5100, signal }, (bench) =>
    measure(bench, settings, signal),
  );
}

runMain(main);
