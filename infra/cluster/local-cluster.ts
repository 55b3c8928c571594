import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { prettyFactory } from 'pino-pretty';
import {
  kafkaPrincipalOfRegion,
  loadCluster,
  parseEnvironment,
  readKafkaCredentials,
  type ClusterConfig,
  type RegionConfig,
} from '@stockmesh/config';
import { provisionDatabases, redact, type ProvisionReport } from '@stockmesh/persistence';

/** The built region service, relative to the repository root (the working directory of npm scripts and jest). */
export const REGION_ENTRY = 'dist/apps/region/src/main.js';

/**
 * The credentials file of kafka.sh's broker (`$STOCKMESH_HOME/kafka/credentials.json`) when the
 * cluster uses that broker (KAFKA_BROKERS unset) and it runs with SASL; `undefined` otherwise.
 */
export function localKafkaCredentials(env: NodeJS.ProcessEnv): string | undefined {
  if (env.KAFKA_BROKERS) return undefined;
  const file = resolve(env.STOCKMESH_HOME || '.stockmesh', 'kafka', 'credentials.json');
  return existsSync(file) ? file : undefined;
}

/**
 * The environment of one region's process: the cluster's, with the region's own Kafka principal
 * when STOCKMESH_KAFKA_CREDENTIALS names a credentials file. The file itself (every principal's
 * password) is not passed on: a region knows only its own.
 */
export function regionEnvironment(env: NodeJS.ProcessEnv, regionId: string): NodeJS.ProcessEnv {
  const { STOCKMESH_KAFKA_CREDENTIALS: file, ...rest } = env;
  const own: NodeJS.ProcessEnv = { ...rest, STOCKMESH_REGION: regionId };
  if (!file || env.KAFKA_SASL_USERNAME) return own;
  const principal = kafkaPrincipalOfRegion(regionId);
  const password = readKafkaCredentials(file).users[principal];
  if (password === undefined) {
    throw new LocalClusterError(
      LocalClusterErrorCode.UnknownRegion,
      `${file} has no Kafka principal ${principal}: the broker was formatted for other regions (STOCKMESH_REGIONS when kafka.sh first started); bash infra/kafka/kafka.sh add-region ${regionId} gives it one`,
    );
  }
  return { ...own, KAFKA_SASL_USERNAME: principal, KAFKA_SASL_PASSWORD: password };
}

/** How many of a region's last output lines an error quotes. */
const TAIL_LINES = 30;
const READY_POLL_MS = 250;
const READY_REQUEST_TIMEOUT_MS = 2_000;

/** How region output is written. */
export interface LogSink {
  /**
   * `prefixed` (default): each line behind its region id, as the region wrote it;
   * `pretty`: the same, with a region's pino lines made readable (pino-pretty: time, coloured
   * level, message, then its fields on one line), for people at a terminal;
   * `json`: one JSON object per line — a region's pino lines pass through untouched, anything
   * else (a crash trace, the launcher's own notes) is wrapped — for files and tools.
   */
  readonly format?: LogFormat;
  /** Default `process.stdout`; e2e suites pass a file stream. */
  readonly stream?: NodeJS.WritableStream;
}

export interface LocalClusterOptions {
  /**
   * Variables on top of `process.env` (STOCKMESH_REGIONS, STOCKMESH_BASE_PORT, STOCKMESH_DB_PREFIX,
   * DATABASE_URL, KAFKA_BROKERS, STOCKMESH_CLUSTER_FILE...). They describe the cluster and are
   * passed to every region; `undefined` unsets a variable.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Variables for one region's process only, on top of `env` (e.g. `{ 'us-east': { STOCKMESH_INSTANCES: '2' } }`). */
  readonly regionEnv?: Readonly<Record<string, Readonly<Record<string, string | undefined>>>>;
  /**
   * The regions to start, default all. Every region's databases are provisioned either way, and
   * the others can be started later with `startRegion` (a region joining the running cluster).
   */
  readonly regions?: readonly string[];
  readonly log?: LogSink;
  /** The script each region runs, default `REGION_ENTRY`. */
  readonly entry?: string;
  /** How long a region may take to answer `/health/ready` (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** How long a region may take to exit after SIGTERM before it gets SIGKILL (default 20 s). */
  readonly stopTimeoutMs?: number;
  /**
   * Start each region in a process group of its own, so a terminal's Ctrl-C reaches only the
   * launcher, which then stops each region with exactly one SIGTERM (a region hit by both the
   * terminal's SIGINT and our SIGTERM would be killed half-way through its shutdown). Only for a
   * launcher that handles SIGINT itself, as `npm start` does: in tests, leave it off so that
   * Ctrl-C on jest takes the regions down with it.
   */
  readonly ownProcessGroups?: boolean;
  /** Called when a region that was ready exits without being asked to. */
  readonly onUnexpectedExit?: (exit: RegionExit) => void;
  /** Aborting cancels any wait for readiness; the region that was starting is stopped. */
  readonly signal?: AbortSignal;
}

/** How a region process ended. */
export interface RegionExit {
  readonly id: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Its last output lines, oldest first. */
  readonly lastLines: readonly string[];
}

export interface LocalCluster {
  /** The whole cluster as configured, e.g. to find the databases to drop after a test. */
  readonly config: ClusterConfig;
  /**
   * The regions this launcher manages (every region of the configuration, started or not), with the
   * URL of their internal (region-to-region) listener.
   */
  readonly regions: readonly { readonly id: string; readonly url: string; readonly internalUrl: string }[];
  /** Starts a region not started yet, or a stopped or killed one again, and waits until it is ready. */
  startRegion(id: string): Promise<void>;
  /** SIGTERM, then waits for the exit (SIGKILL after `stopTimeoutMs`). */
  stopRegion(id: string): Promise<RegionExit>;
  /** SIGKILL: a crash, for fault tests. */
  killRegion(id: string): Promise<RegionExit>;
  /** The pid of a running region's process (with several instances: their primary's). */
  pid(id: string): number | undefined;
  /** Stops every running region. */
  stop(): Promise<void>;
}

export enum LocalClusterErrorCode {
  UnknownRegion = 'UNKNOWN_REGION',
  AlreadyRunning = 'ALREADY_RUNNING',
  NotRunning = 'NOT_RUNNING',
  EntryMissing = 'ENTRY_MISSING',
  PortInUse = 'PORT_IN_USE',
  ExitedDuringStart = 'EXITED_DURING_START',
  NotReady = 'NOT_READY',
}

export class LocalClusterError extends Error {
  constructor(
    readonly code: LocalClusterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LocalClusterError';
  }
}

/**
 * The cluster the environment describes. STOCKMESH_REGION is left out: it names the one region a
 * process serves, and a launcher gives each region its own.
 */
export function clusterFromEnvironment(env: NodeJS.ProcessEnv): ClusterConfig {
  return loadCluster(parseEnvironment({ ...env, STOCKMESH_REGION: undefined }));
}

/** One line about one provisioned database, as `npm run db:provision` and the launcher print it. */
export function describeProvisioning(db: { readonly url: string }, report: ProvisionReport): string {
  const state = report.created ? 'created' : 'existing';
  const migrations = report.migrations.length > 0 ? `migrations applied: ${report.migrations.join(', ')}` : 'no pending migrations';
  return `${report.database} (${redact(db.url)}): ${state}, ${migrations}`;
}

/** `path` under a base URL that may itself have a path (`http://proxy/us-east/` + `health/ready`). */
export function endpoint(baseUrl: string, path: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(path.replace(/^\//, ''), base).toString();
}

/** Where to knock to learn whether something listens on `host`: a wildcard bind answers on loopback. */
export function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

/** `code 1`, `signal SIGKILL`. */
export function describeExit(exit: Pick<RegionExit, 'code' | 'signal'>): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? 'unknown'}`;
}

export type LogFormat = 'prefixed' | 'pretty' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['prefixed', 'pretty', 'json'];

/**
 * pino-pretty's formatter of one line, made once: colours only when asked (a terminal), the
 * region and process fields left out (the prefix says the region), the rest on the same line.
 */
const prettifiers = new Map<boolean, (line: string) => string>();
function prettify(line: string, colorize: boolean): string {
  let prettifier = prettifiers.get(colorize);
  if (!prettifier) {
    prettifier = prettyFactory({ colorize, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,region' });
    prettifiers.set(colorize, prettifier);
  }
  return prettifier(line).trimEnd();
}

/** A region's output line as the sink writes it (without the newline). */
export function formatLine(format: LogFormat, source: string, line: string, width = source.length, colorize = false): string {
  if (format === 'prefixed') return `${source.padEnd(width)} | ${line}`;
  if (format === 'pretty') return `${source.padEnd(width)} | ${isJsonObject(line) ? prettify(line, colorize) : line}`;
  if (isJsonObject(line)) return line;
  return JSON.stringify({ time: Date.now(), source, msg: line });
}

function isJsonObject(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false; // not JSON: the caller wraps it
  }
}

/** Appends `line`, keeping at most `max` lines. */
export function pushBounded(lines: string[], line: string, max: number): void {
  lines.push(line);
  if (lines.length > max) lines.splice(0, lines.length - max);
}

type Write = (source: string, line: string) => void;

function sinkWriter(sink: LogSink, sources: readonly string[]): Write {
  const format = sink.format ?? 'prefixed';
  const stream = sink.stream ?? process.stdout;
  const width = Math.max(...sources.map((s) => s.length));
  const colorize = (stream as { isTTY?: boolean }).isTTY === true;
  return (source, line) => {
    stream.write(`${formatLine(format, source, line, width, colorize)}\n`);
  };
}

/** Resolves false when nothing accepts a TCP connection on host:port within a second. */
async function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: probeHost(host), port, timeout: 1_000 });
    const done = (taken: boolean): void => {
      socket.destroy();
      resolvePromise(taken);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

interface Settings {
  readonly entry: string;
  readonly env: NodeJS.ProcessEnv;
  readonly regionEnv?: LocalClusterOptions['regionEnv'];
  readonly readyTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly detached: boolean;
  readonly write: Write;
  readonly note: (message: string) => void;
  readonly onUnexpectedExit?: (exit: RegionExit) => void;
  /** Aborted when the caller gives up, or when another region failed to start. */
  readonly signal: AbortSignal;
}

/** One region's child process across its starts and stops. */
class RegionProcess {
  private child?: ChildProcess;
  private exited?: Promise<RegionExit>;
  /** True while an exit is expected: stopRegion, killRegion, stop, or a failed start. */
  private stopping = false;
  private tail: string[] = [];

  constructor(
    readonly region: RegionConfig,
    private readonly settings: Settings,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const { id, host, port, url } = this.region;
    if (this.child)
      throw new LocalClusterError(LocalClusterErrorCode.AlreadyRunning, `region ${id} is already running (pid ${this.child.pid})`);
    for (const [bind, setting] of [
      [{ host, port }, 'STOCKMESH_BASE_PORT'],
      [this.region.internal, 'STOCKMESH_INTERNAL_BASE_PORT'],
    ] as const) {
      if (await portTaken(bind.host, bind.port)) {
        throw new LocalClusterError(
          LocalClusterErrorCode.PortInUse,
          `region ${id}: something already listens on ${probeHost(bind.host)}:${bind.port} (a region left over from an earlier run?); stop it or choose another ${setting}`,
        );
      }
    }
    this.settings.signal.throwIfAborted();
    const started = Date.now();
    const child = spawn(process.execPath, [this.settings.entry], {
      env: regionEnvironment({ ...this.settings.env, ...this.settings.regionEnv?.[id] }, id),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.settings.detached,
    });
    this.child = child;
    this.stopping = false;
    this.tail = [];
    const onLine = (line: string): void => {
      pushBounded(this.tail, line, TAIL_LINES);
      this.settings.write(id, line);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('error', (error) => onLine(`cannot run ${process.execPath} ${this.settings.entry}: ${error.message}`));
    let ready = false;
    // 'close' rather than 'exit': it comes after the last output line has been read.
    this.exited = new Promise((resolveExit) => {
      child.once('close', (code, signal) => {
        this.child = undefined;
        const exit: RegionExit = { id, code, signal, lastLines: [...this.tail] };
        if (ready && !this.stopping) this.settings.onUnexpectedExit?.(exit);
        resolveExit(exit);
      });
    });
    this.settings.note(`${id}: started pid ${child.pid} (${url}), waiting for /health/ready`);
    try {
      await this.waitUntilReady(this.exited);
    } catch (error) {
      if (this.child) await this.stop('SIGTERM');
      throw error;
    }
    ready = true;
    this.settings.note(`${id}: ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /** Sends `signal` and waits for the exit; SIGKILL if SIGTERM is not enough in time. */
  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<RegionExit> {
    const { child, exited } = this;
    if (!child || !exited) throw new LocalClusterError(LocalClusterErrorCode.NotRunning, `region ${this.region.id} is not running`);
    this.stopping = true;
    child.kill(signal);
    const timer = setTimeout(() => {
      this.settings.note(`${this.region.id}: still running ${this.settings.stopTimeoutMs} ms after ${signal}; sending SIGKILL`);
      child.kill('SIGKILL');
    }, this.settings.stopTimeoutMs);
    try {
      const exit = await exited;
      this.settings.note(`${this.region.id}: exited (${describeExit(exit)})`);
      return exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last resort when the launcher itself exits: no waiting possible. */
  killNow(): void {
    this.child?.kill('SIGKILL');
  }

  private async waitUntilReady(exited: Promise<RegionExit>): Promise<void> {
    const { id, url } = this.region;
    const { signal } = this.settings;
    const readyUrl = endpoint(url, 'health/ready');
    const deadline = Date.now() + this.settings.readyTimeoutMs;
    let gone: RegionExit | undefined;
    void exited.then((exit) => (gone = exit));
    let lastAnswer: string;
    for (;;) {
      signal.throwIfAborted();
      if (gone) {
        throw new LocalClusterError(
          LocalClusterErrorCode.ExitedDuringStart,
          `region ${id} exited (${describeExit(gone)}) before it was ready; its last output:\n${indent(gone.lastLines)}`,
        );
      }
      try {
        const response = await fetch(readyUrl, { signal: AbortSignal.any([signal, AbortSignal.timeout(READY_REQUEST_TIMEOUT_MS)]) });
        if (response.ok) {
          await response.body?.cancel();
          return;
        }
        lastAnswer = `HTTP ${response.status} ${(await response.text()).slice(0, 300)}`;
      } catch (error) {
        lastAnswer = error instanceof Error ? `${error.message}${causeOf(error)}` : String(error);
      }
      if (Date.now() >= deadline) {
        throw new LocalClusterError(
          LocalClusterErrorCode.NotReady,
          `region ${id} did not answer ${readyUrl} with 200 within ${this.settings.readyTimeoutMs} ms (last answer: ${lastAnswer}); its last output:\n${indent(this.tail)}`,
        );
      }
      await Promise.race([delay(READY_POLL_MS, undefined, { signal }), exited]);
    }
  }
}

function causeOf(error: Error): string {
  return error.cause instanceof Error ? ` (${error.cause.message})` : '';
}

function indent(lines: readonly string[]): string {
  return lines.length > 0 ? lines.map((l) => `  ${l}`).join('\n') : '  (nothing)';
}

/**
 * Runs the regions of a cluster on this machine, one child process each: provisions every
 * region's databases, starts the chosen regions in parallel and resolves once each answers
 * `/health/ready`. If one fails to start, the others are stopped and the promise rejects with
 * the failing region's last output lines.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const config = clusterFromEnvironment(env);
  const chosen = (options.regions ?? config.regions.map((r) => r.id)).map((id) => {
    const region = config.regions.find((r) => r.id === id);
    if (!region) {
      throw new LocalClusterError(
        LocalClusterErrorCode.UnknownRegion,
        `region ${id} is not in the cluster (${config.regions.map((r) => r.id).join(', ')})`,
      );
    }
    return region;
  });
  const entry = resolve(options.entry ?? REGION_ENTRY);
  if (!existsSync(entry)) {
    throw new LocalClusterError(
      LocalClusterErrorCode.EntryMissing,
      `${entry} does not exist: build the region service first (npm run build)`,
    );
  }

  const write = sinkWriter(options.log ?? {}, ['cluster', ...config.regions.map((r) => r.id)]);
  const note = (message: string): void => write('cluster', message);
  // Cancels the other starts as soon as one fails, so that a bad start is reported at once.
  const cancelStart = new AbortController();
  const settings: Settings = {
    entry,
    env,
    regionEnv: options.regionEnv,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 20_000,
    detached: options.ownProcessGroups ?? false,
    write,
    note,
    onUnexpectedExit: options.onUnexpectedExit,
    signal: options.signal ? AbortSignal.any([options.signal, cancelStart.signal]) : cancelStart.signal,
  };

  const databases = config.regions.flatMap((r) => r.databases);
  note(`provisioning ${databases.length} databases`);
  for (const db of databases) {
    const [report] = await provisionDatabases([db]);
    note(describeProvisioning(db, report));
  }

  // Every region of the configuration is managed; those not chosen start only on startRegion (a
  // region that joins the running cluster later).
  const processes = new Map(config.regions.map((region) => [region.id, new RegionProcess(region, settings)]));
  const processOf = (id: string): RegionProcess => {
    const found = processes.get(id);
    if (!found)
      throw new LocalClusterError(
        LocalClusterErrorCode.UnknownRegion,
        `region ${id} is not managed by this launcher (${[...processes.keys()].join(', ')})`,
      );
    return found;
  };
  // A launcher that exits without stop() (an uncaught error, process.exit) must not leave regions behind.
  const killAll = (): void => processes.forEach((p) => p.killNow());
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    await Promise.all([...processes.values()].filter((p) => p.running).map((p) => p.stop('SIGTERM')));
    process.removeListener('exit', killAll);
  };

  let failure: { readonly error: unknown } | undefined;
  await Promise.all(
    chosen.map((region) =>
      processOf(region.id)
        .start()
        .catch((error: unknown) => {
          failure ??= { error };
          cancelStart.abort();
        }),
    ),
  );
  if (failure) {
    await stop();
    throw failure.error;
  }

  return {
    config,
    regions: config.regions.map(({ id, url, internal }) => ({ id, url, internalUrl: internal.url })),
    startRegion: (id) => processOf(id).start(),
    stopRegion: (id) => processOf(id).stop('SIGTERM'),
    killRegion: (id) => processOf(id).stop('SIGKILL'),
    pid: (id) => processOf(id).pid,
    stop,
  };
}
