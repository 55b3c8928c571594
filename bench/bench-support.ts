// What the benchmark scripts under bench/ share: a throwaway local cluster that is always cleaned
// up, a lean HTTP client, closed-loop figures (percentiles, tables), where the machine's CPU went,
// and pgbench as the database's ceiling. Scripts measure and print; nothing here asserts timings.

// First: the libraries decorate classes at import time and need the polyfill.
import 'reflect-metadata';
import { readKafkaCredentials } from '@stockmesh/config';
import { EVENT_TYPES, newEvent, stockStateKey, toKafkaRecord, TOPICS, type StockChangedData } from '@stockmesh/contracts';
import { KafkaJsBus, type BusLog, type OutgoingMessage } from '@stockmesh/messaging';
import { dropDatabases } from '@stockmesh/persistence';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { clusterFromEnvironment, localKafkaCredentials, startLocalCluster, type LocalCluster } from '../infra/cluster/local-cluster.js';

export const say = (message: string): void => console.log(`bench: ${message}`);

/** A positive integer from the environment, or the default; fails loudly on anything else. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const ms = (value: number): string => (Number.isNaN(value) ? 'n/a' : `${value.toFixed(1)} ms`);

/** Two columns: names padded to the longest. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n');
}

/** A grid with a header row; numeric-looking cells are right-aligned. */
export function grid(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = /^[-\d.,]+( ms| %)?$|^n\/a$/;
  const line = (cells: readonly string[]): string =>
    `  ${cells.map((c, i) => (numeric.test(c) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The first port p from `from` on with p .. p+count-1 free on loopback. */
export async function freePortRange(from: number, count: number): Promise<number> {
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let base = from; base < from + 300; base += count) {
    let all = true;
    for (let port = base; port < base + count && all; port++) all = await free(port);
    if (all) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${from} and ${from + 300}`);
}

/** Starts the local Kafka broker (idempotent) unless KAFKA_BROKERS names a cluster. */
export async function ensureBroker(): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    say(`using the Kafka cluster KAFKA_BROKERS=${process.env.KAFKA_BROKERS}`);
    return;
  }
  say('making sure the local Kafka broker runs: bash infra/kafka/kafka.sh start');
  const child = spawn('bash', ['infra/kafka/kafka.sh', 'start'], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`bash infra/kafka/kafka.sh start failed with code ${code} (its reason is above)`);
}

/** An AbortSignal that SIGINT or SIGTERM abort, so that a script can clean up before it exits. */
export function interruptSignal(): AbortSignal {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) return;
    say(`${signal}: stopping the cluster and dropping its databases`);
    stop.abort();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, onSignal);
  return stop.signal;
}

/** Runs a script's main: exit 0, 130 when interrupted (no figures), 1 with the reason otherwise. */
export function runMain(main: () => Promise<void>): void {
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
}

export interface BenchClusterOptions {
  /** STOCKMESH_DB_PREFIX of this run: its databases are `<dbPrefix>_<region>_<n>`; also names the log file. */
  readonly dbPrefix: string;
  /** KAFKA_TOPIC_PREFIX of this run (ends with a dot), so no other cluster's events reach it. */
  readonly topicPrefix: string;
  readonly regions: readonly string[];
  /** The first port tried for the regions' consecutive ports. */
  readonly portsFrom: number;
  /** Further region settings (e.g. LOG_LEVEL, STOCKMESH_DB_POOL_SIZE). */
  readonly env?: Readonly<Record<string, string>>;
  /** The script each region runs (default the region's own entry), e.g. a profiling wrapper. */
  readonly entry?: string;
  /** The regions started at once (default all): the others start on `cluster.startRegion`. */
  readonly start?: readonly string[];
  /** How long a region may take to answer `/health/ready` (default the launcher's 60 s). */
  readonly readyTimeoutMs?: number;
  readonly signal: AbortSignal;
}

export interface BenchCluster {
  readonly cluster: LocalCluster;
  /** Every database of the cluster, dropped at the end. */
  readonly databaseUrls: readonly string[];
  readonly logFile: string;
  /** The settings the regions run with (without process.env). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The bootstrap admin key (STOCKMESH_ADMIN_KEY) of every bench cluster, random per run, and the
 * `Authorization` header every bench request sends with it.
 */
export const BENCH_ADMIN_KEY = `bench-admin-${randomBytes(24).toString('base64url')}`;
export const BENCH_AUTHORIZATION = { authorization: `Bearer ${BENCH_ADMIN_KEY}` } as const;

/** The cluster secret that signs region-to-region calls in every bench cluster, random per run. */
const BENCH_CLUSTER_SECRET = `bench-cluster-${randomBytes(24).toString('base64url')}`;

/** A short random hex for names of throwaway resources. */
export const runId = (): string => randomBytes(3).toString('hex');

/**
 * Starts a local cluster on throwaway databases, topics and free ports, with JSON logs in
 * .stockmesh/bench-logs/, runs `work`, then stops every region and drops every database, also
 * when the start or `work` fails or is interrupted.
 */
export async function withBenchCluster<T>(options: BenchClusterOptions, work: (bench: BenchCluster) => Promise<T>): Promise<T> {
  const env: Record<string, string> = {
    STOCKMESH_REGIONS: options.regions.join(','),
    STOCKMESH_DB_PREFIX: options.dbPrefix,
    STOCKMESH_BASE_PORT: String(await freePortRange(options.portsFrom, options.regions.length)),
    KAFKA_TOPIC_PREFIX: options.topicPrefix,
    LOG_LEVEL: 'warn',
    STOCKMESH_ADMIN_KEY: BENCH_ADMIN_KEY,
    // A bench (and the chaos run) measures the regions, not the rate limit and quotas of its one key.
    STOCKMESH_LIMITS_EXEMPT_ADMIN: 'true',
    STOCKMESH_CLUSTER_SECRET: BENCH_CLUSTER_SECRET,
    ...options.env,
  };
  // kafka.sh's broker with SASL: each region gets its own principal from the credentials file
  // (npm test names it in STOCKMESH_KAFKA_CREDENTIALS; a bench finds kafka.sh's own).
  const credentials = process.env.STOCKMESH_KAFKA_CREDENTIALS || localKafkaCredentials(process.env);
  if (credentials && !env.STOCKMESH_KAFKA_CREDENTIALS) env.STOCKMESH_KAFKA_CREDENTIALS = credentials;
  // Known before the start, so a start that fails half-way still has its databases dropped.
  const databaseUrls = clusterFromEnvironment({ ...process.env, ...env }).regions.flatMap((r) => r.databases.map((d) => d.url));
  const logDir = join(process.cwd(), '.stockmesh', 'bench-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${options.dbPrefix}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  let cluster: LocalCluster | undefined;
  try {
    say(
      `starting ${options.regions.length} regions (databases ${options.dbPrefix}_*, topics ${options.topicPrefix}*, ports ${env.STOCKMESH_BASE_PORT}+, log ${logFile})`,
    );
    cluster = await startLocalCluster({
      env,
      entry: options.entry,
      regions: options.start,
      readyTimeoutMs: options.readyTimeoutMs,
      log: { format: 'json', stream: log },
      ownProcessGroups: true,
      signal: options.signal,
    });
    return await work({ cluster, databaseUrls, logFile, env });
  } finally {
    if (cluster) await cluster.stop();
    log.end();
    say(`dropping the bench databases ${options.dbPrefix}_*`);
    await dropDatabases(databaseUrls);
  }
}

/** One HTTP exchange as a load generator sees it. */
export interface HttpResult {
  /** 0: no answer (connection error or timeout). */
  readonly status: number;
  readonly body: string;
  readonly latencyMs: number;
  readonly error?: string;
}

/**
 * A lean keep-alive HTTP/1.1 client for load generation. node:http rather than fetch: the load
 * generator shares the machine's cores with what it measures, and fetch's streams cost it more
 * CPU per request.
 */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    maxSockets: number,
    private readonly timeoutMs = 10_000,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  send(method: string, url: string, body?: unknown, headers: Readonly<Record<string, string>> = {}): Promise<HttpResult> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    return new Promise((resolve) => {
      const done = (status: number, text: string, error?: string): void =>
        resolve({ status, body: text, latencyMs: performance.now() - started, ...(error ? { error } : {}) });
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
            ...BENCH_AUTHORIZATION,
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          res.on('error', (error) => done(0, '', `${method} ${url}: ${error.message}`));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (error) => done(0, '', `${method} ${url}: ${error.message}`));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** CPU seconds per kind of process, read from /proc (Linux). */
export interface CpuSample {
  readonly at: number;
  readonly total: number;
  readonly idle: number;
  readonly byGroup: ReadonlyMap<string, number>;
}

/** How many cores each kind of process used over an interval, so figures can say what the machine was busy with. */
export class CpuMeter {
  private readonly tick = CpuMeter.clockTicks();

  /**
   * `groupOf(pid, ppid, comm, parentOf)`: the name to count a process under; `parentOf` gives any
   * process's parent and name as the same sample read them (to count a process with its ancestors).
   */
  constructor(
    private readonly groupOf: (
      pid: number,
      ppid: number,
      comm: string,
      parentOf: (pid: number) => { readonly ppid: number; readonly comm: string } | undefined,
    ) => string,
  ) {}

  sample(): CpuSample {
    const processes = new Map<number, { readonly ppid: number; readonly comm: string; readonly ticks: number }>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // the process ended between readdir and read
      }
      // comm may contain spaces and parentheses: the fields after it start after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      processes.set(Number(entry), { ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]) }); // utime + stime
    }
    const byGroup = new Map<string, number>();
    for (const [pid, { ppid, comm, ticks }] of processes) {
      const group = this.groupOf(pid, ppid, comm, (other) => processes.get(other));
      byGroup.set(group, (byGroup.get(group) ?? 0) + ticks / this.tick);
    }
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0) / this.tick;
    const idle = (cpu[3] + cpu[4]) / this.tick;
    return { at: performance.now(), total, idle, byGroup };
  }

  /** Cores used per group between two samples, plus `idle`; processes that ended in between are missed. */
  static cores(from: CpuSample, to: CpuSample): Map<string, number> {
    const seconds = (to.at - from.at) / 1000;
    const result = new Map<string, number>();
    for (const [group, cpu] of to.byGroup) {
      const used = (cpu - (from.byGroup.get(group) ?? 0)) / seconds;
      if (used > 0.005) result.set(group, used);
    }
    result.set('idle', (to.idle - from.idle) / seconds);
    return result;
  }

  static describe(cores: ReadonlyMap<string, number>): string {
    return [...cores]
      .sort(([a, x], [b, y]) => (a === 'idle' ? 1 : b === 'idle' ? -1 : y - x))
      .map(([group, used]) => `${group} ${used.toFixed(2)}`)
      .join(', ');
  }

  private static clockTicks(): number {
    try {
      return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      return 100;
    }
  }
}

/** The machine, for the record next to the figures. */
export function machine(postgres: string): [string, string][] {
  const pom = readFileSync('infra/kafka/pom.xml', 'utf8');
  const kafka = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown';
  return [
    ['cpus', `${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown'}`],
    ['memory', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
    [
      'load average',
      `${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (1, 5, 15 min, at the end)`,
    ],
    ['node', process.version],
    ['kafka', `${kafka} (infra/kafka/pom.xml)`],
    ['postgresql', postgres],
  ];
}

/** What pgbench reported for one run. */
export interface PgbenchResult {
  readonly transactions: number;
  readonly failed: number;
  readonly tps: number;
  readonly latencyAvgMs: number;
  /** Per-transaction latencies from `--log`, ascending. */
  readonly latenciesMs: readonly number[];
  /** `-r`: average latency per script command, in script order. */
  readonly statements: readonly { readonly ms: number; readonly command: string }[];
}

export interface PgbenchRun {
  readonly script: string;
  readonly databaseUrl: string;
  readonly clients: number;
  readonly threads: number;
  readonly seconds: number;
  /** `-D name=value`. */
  readonly variables: Readonly<Record<string, string>>;
  /** Server settings for pgbench's sessions (PGOPTIONS), e.g. `-c session_replication_role=replica`. */
  readonly pgOptions?: string;
  /**
   * pgbench's query mode: `extended` (the default: parse, bind and execute per statement, as
   * node-postgres does with unnamed statements) or `prepared` (each statement parsed once per
   * connection, as named prepared statements would be).
   */
  readonly mode?: 'extended' | 'prepared';
  readonly signal: AbortSignal;
}

/** The command line of a run, for the record (long variable values shortened). */
export function pgbenchCommand(run: Omit<PgbenchRun, 'signal'>, binary = '/usr/bin/pgbench'): string {
  const vars = Object.entries(run.variables).map(([k, v]) => `-D ${k}=${v.length > 24 ? `'<${v.length} chars>'` : v}`);
  return [
    ...(run.pgOptions ? [`PGOPTIONS='${run.pgOptions}'`] : []),
    binary,
    `-n -M ${run.mode ?? 'extended'}`,
    `-c ${run.clients} -j ${run.threads} -T ${run.seconds}`,
    '-r --log',
    ...vars,
    `-f ${run.script}`,
    '<db-url>',
  ].join(' ');
}

/**
 * Runs pgbench (-M extended: parse/bind/execute per statement, as node-postgres does; -n: no
 * vacuum of pgbench's own tables, which these databases do not have) and parses its summary,
 * its per-statement latencies and its per-transaction log.
 */
export async function runPgbench(run: PgbenchRun, binary = '/usr/bin/pgbench'): Promise<PgbenchResult> {
  const logDir = mkdtempSync(join(tmpdir(), 'stockmesh-pgbench-'));
  try {
    const args = [
      '-n',
      '-M',
      run.mode ?? 'extended',
      '-c',
      String(run.clients),
      '-j',
      String(run.threads),
      '-T',
      String(run.seconds),
      '-r',
      '--log',
      `--log-prefix=${join(logDir, 'tx')}`,
      ...Object.entries(run.variables).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      '-f',
      run.script,
      run.databaseUrl,
    ];
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: run.signal,
      env: run.pgOptions ? { ...process.env, PGOPTIONS: run.pgOptions } : process.env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    run.signal.throwIfAborted();
    if (code !== 0) throw new Error(`${binary} ${run.script} failed with code ${code}:\n${err.trim()}\n${out.trim()}`);
    const number = (pattern: RegExp): number => {
      const match = pattern.exec(out);
      if (!match) throw new Error(`pgbench output lacks ${pattern}:\n${out}`);
      return Number(match[1]);
    };
    const statements: { ms: number; command: string }[] = [];
    const perStatement = out.split(/statement latencies in milliseconds.*\n/)[1] ?? '';
    for (const line of perStatement.split('\n')) {
      // PostgreSQL 15: "latency failures command"; older: "latency command".
      const match = /^\s+([\d.]+)\s+(?:\d+\s+)?(.+)$/.exec(line);
      if (match) statements.push({ ms: Number(match[1]), command: match[2].trim() });
    }
    // Log lines: client_id transaction_no latency_us script_no epoch_s epoch_us; a failed
    // transaction has a word instead of its latency.
    const latenciesMs: number[] = [];
    for (const file of readdirSync(logDir)) {
      for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (line && Number.isFinite(us)) latenciesMs.push(us / 1000);
      }
    }
    latenciesMs.sort((a, b) => a - b);
    return {
      transactions: number(/number of transactions actually processed: (\d+)/),
      failed: /number of failed transactions: (\d+)/.test(out) ? number(/number of failed transactions: (\d+)/) : 0,
      tps: number(/tps = ([\d.]+) \(without initial connection time\)/),
      latencyAvgMs: number(/latency average = ([\d.]+) ms/),
      latenciesMs,
      statements,
    };
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** Direct access to the regions' shard databases, for what the API does not show. */
export class BenchDatabases {
  private readonly pools = new Map<string, pg.Pool[]>();

  constructor(cluster: LocalCluster) {
    for (const region of cluster.config.regions) {
      this.pools.set(
        region.id,
        region.databases.map((db) => new pg.Pool({ connectionString: db.url, max: 2, application_name: 'stockmesh bench' })),
      );
    }
  }

  /** The rows of `sql` from every shard database of `region`. */
  async query<T extends pg.QueryResultRow>(region: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const results = await Promise.all(this.databases(region).map((pool) => pool.query<T>(sql, params)));
    return results.flatMap((r) => r.rows);
  }

  /** One pool per shard database of `region`, in shard map order. */
  databases(region: string): pg.Pool[] {
    return this.pools.get(region) ?? [];
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].flat().map((pool) => pool.end()));
  }
}

/** Says how busy the machine is before a run: every figure suffers when it is. */
export function sayLoad(): void {
  say(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${availableParallelism()} cpus (figures suffer when the machine is busy)`,
  );
}

/** A CpuMeter grouping the machine's processes as a bench cluster sees them. */
export function clusterCpuMeter(): CpuMeter {
  /** A region's process, or one of its instances (node:cluster workers are its children). */
  const isRegion = (ppid: number, comm: string, parentOf: (pid: number) => { ppid: number; comm: string } | undefined): boolean => {
    if (comm !== 'node') return false;
    if (ppid === process.pid) return true;
    const parent = parentOf(ppid);
    return parent !== undefined && parent.comm === 'node' && parent.ppid === process.pid;
  };
  return new CpuMeter((pid, ppid, comm, parentOf) => {
    if (pid === process.pid) return 'bench client';
    if (isRegion(ppid, comm, parentOf)) return 'regions';
    if (comm === 'postgres') return 'postgresql';
    if (comm === 'java') return 'kafka';
    if (comm === 'pgbench') return 'pgbench';
    return 'other processes';
  });
}

/**
 * Transactions the databases of `urls` have ended so far, as PostgreSQL counts them (its
 * statistics reach pg_stat_database within about a second of a transaction's end).
 */
export async function transactionsEnded(urls: readonly string[]): Promise<number> {
  const names = urls.map((url) => decodeURIComponent(new URL(url).pathname.slice(1)));
  const client = new pg.Client({ connectionString: urls[0], application_name: 'stockmesh bench' });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string | null }>(
      `SELECT sum(xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = ANY($1)`,
      [names],
    );
    return Number(rows[0].n ?? 0);
  } finally {
    await client.end();
  }
}

/**
 * A bus on the bench cluster's broker and topics as Kafka's `admin` principal (the one that may
 * write any region's topics), for scripts that write or read records themselves.
 */
export function adminBus(env: Readonly<Record<string, string>>, topicPrefix: string, hex: string): KafkaJsBus {
  const credentials = env.STOCKMESH_KAFKA_CREDENTIALS;
  const log: BusLog = { error: (_, m) => say(`kafka: ${m}`), warn: (_, m) => say(`kafka: ${m}`), info: () => {}, debug: () => {} };
  return new KafkaJsBus({
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    sasl: credentials
      ? { mechanism: 'scram-sha-512', username: 'admin', password: readKafkaCredentials(credentials).users.admin }
      : undefined,
    clientId: `stockmesh-bench-${hex}`,
    topicPrefix,
    log,
  });
}

/** Registers `count` warehouses `bench-<region>-<n>` at `region` through its API; resolves their ids. */
export async function registerBenchWarehouses(url: string, region: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, n) => `bench-${region}-${n + 1}`);
  for (const id of ids) {
    const response = await fetch(`${url}/v1/warehouses/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...BENCH_AUTHORIZATION },
      body: JSON.stringify({ region, name: `Bench ${id}` }),
    });
    if (response.status !== 201) throw new Error(`registering ${id}: HTTP ${response.status} ${await response.text()}`);
  }
  return ids;
}

/**
 * Seconds libs/messaging's consumer takes to read `count` records of `topic` from the start with
 * an empty handler: the ceiling of anything that applies those records.
 */
export async function rawConsume(bus: KafkaJsBus, topic: string, count: number, hex: string): Promise<number> {
  let seen = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const consumer = bus.consumer({ groupId: `bench-raw-${hex}`, topics: [topic], fromBeginning: true, maxWaitMs: 100 });
  const started = performance.now();
  await consumer.start(async (batch) => {
    seen += batch.messages.length;
    if (seen >= count) done();
    return undefined;
  });
  await all;
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  return seconds;
}

/**
 * A `stock.changed` record of the row's region as its relay publishes it (see `stockChangedEntry`):
 * on the stock topic keyed by SKU, or on the compacted state topic keyed `warehouseId/sku`, in the
 * partition of the row's shard. For benches that write an owner's events themselves.
 */
export function stockChangedMessage(
  topic: typeof TOPICS.stock | typeof TOPICS.stockState,
  data: Omit<StockChangedData, 'reserved'>,
): OutgoingMessage {
  const event = newEvent({
    source: data.region,
    type: EVENT_TYPES.stockChanged,
    time: data.updatedAt,
    subject: `warehouses/${data.warehouseId}/stock/${data.sku}`,
    data: { ...data, reserved: 0 },
  });
  const record = toKafkaRecord(event, topic === TOPICS.stock ? data.sku : stockStateKey(data.warehouseId, data.sku));
  return { topic, partition: data.shard, key: record.key, value: record.value, headers: record.headers };
}
