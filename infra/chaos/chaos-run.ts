// One chaos run: a throwaway three-region cluster, mixed load from several clients while seeded
// faults hit it, then (faults stopped, every region up) a wait for observed quiescence, and the
// checker's verdict over the recorded history and the settled databases.
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpClient, runId, withBenchCluster } from '../../bench/bench-support.js';
import { LocalClusterError, LocalClusterErrorCode } from '../cluster/local-cluster.js';
import { CHECKS, checkAll, unsettled, type CheckName, type Violation } from './chaos-checker.js';
import { DEFAULT_SCHEDULE, runFaults, startWithRetries } from './chaos-faults.js';
import type { ClusterSnapshot, FaultKind, FaultRecord, HistoryRecord, Operation, RequestRecord } from './chaos-history.js';
import { runClient, sender, type World } from './chaos-load.js';
import { Random } from './chaos-random.js';
import { readSnapshot } from './chaos-snapshot.js';

export interface ChaosOptions {
  /** How long the load and the faults run. */
  readonly durationMs: number;
  readonly seed: number;
  readonly faults: readonly FaultKind[];
  /** Clients sending load, one request in flight each. */
  readonly clients: number;
  /**
   * The bound on the wait for quiescence after the faults stop; the checker runs either way. The
   * finisher backs off up to 5 min (plus a quarter) per allocation, so after a long outage only a
   * bound above 375 s is sure to see every retry that is due.
   */
  readonly settleTimeoutMs: number;
  /** Restarts the broker the run owns; without it, broker-restart faults are left out. */
  readonly restartBroker?: () => Promise<void>;
  /** Settings for the regions on top of the process environment (KAFKA_BROKERS...). */
  readonly env?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly log: (message: string) => void;
}

export interface OperationCounts {
  sent: number;
  /** Answered 2xx. */
  ok: number;
  /** Answered 4xx or 5xx. */
  refused: number;
  /** No answer (region down or paused, timeout). */
  unanswered: number;
}

export interface ChaosReport {
  readonly seed: number;
  readonly durationMs: number;
  readonly faultKinds: readonly FaultKind[];
  readonly historyFile: string;
  readonly operations: Readonly<Record<string, OperationCounts>>;
  readonly faults: Readonly<Record<string, number>>;
  /** From the end of the faults until quiescence was observed (or the bound). */
  readonly settleMs: number;
  /** What was still in flight when the bound ran out; empty when the cluster settled. */
  readonly unsettled: readonly string[];
  readonly violations: ReadonlyMap<CheckName, readonly Violation[]>;
  readonly passed: boolean;
}

const REGIONS = ['us-east', 'eu-west', 'ap-south'];
const SKUS = ['CH-1', 'CH-2', 'CH-3', 'CH-4', 'CH-5', 'CH-6'];
const INITIAL_ON_HAND = 40;

/** Polls the databases until nothing is in flight, or `timeoutMs`; returns the last snapshot. */
async function settle(
  read: () => Promise<ClusterSnapshot>,
  timeoutMs: number,
  log: (message: string) => void,
): Promise<{ snapshot: ClusterSnapshot; reasons: string[] }> {
  const deadline = Date.now() + timeoutMs;
  let lastSaid = Date.now();
  for (;;) {
    let snapshot: ClusterSnapshot | undefined;
    let reasons: string[];
    try {
      snapshot = await read();
      reasons = unsettled(snapshot);
    } catch (error) {
      reasons = [`cannot read the databases: ${error instanceof Error ? error.message : String(error)}`];
    }
    if (snapshot && (reasons.length === 0 || Date.now() >= deadline)) return { snapshot, reasons };
    if (Date.now() >= deadline + 30_000) throw new Error(reasons.join('; '));
    if (Date.now() - lastSaid >= 15_000) {
      lastSaid = Date.now();
      log(`still in flight: ${reasons.join('; ')}`);
    }
    await delay(1_000);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const id = runId();
  const dir = join(process.cwd(), '.stockmesh', 'chaos');
  mkdirSync(dir, { recursive: true });
  const historyFile = join(dir, `chaos-${id}-seed${options.seed}.jsonl`);
  const out = createWriteStream(historyFile);
  const history: HistoryRecord[] = [];
  const append = <T extends HistoryRecord>(record: T): T => {
    history.push(record);
    out.write(`${JSON.stringify(record)}\n`);
    return record;
  };
  const log = options.log;
  const http = new HttpClient(options.clients * 3 + 6, 5_000);

  try {
    return await withBenchCluster(
      {
        dbPrefix: `chaos_${id}`,
        topicPrefix: `chaos-${id}.`,
        regions: REGIONS,
        portsFrom: 24_000 + Math.floor(Math.random() * 500) * 4,
        env: { LOG_LEVEL: 'warn', ...options.env },
        signal: options.signal,
      },
      async ({ cluster, logFile }) => {
        log(`cluster up (region logs: ${logFile}); history: ${historyFile}`);
        const world: World = {
          regions: cluster.regions,
          warehouses: REGIONS.flatMap((region) => [1, 2].map((n) => ({ id: `${region}-w${n}`, region }))),
          skus: SKUS,
        };
        const send = sender(http, world, (r) => append({ type: 'request', seq: history.length + 1, ...r }));
        const read = (): Promise<ClusterSnapshot> => readSnapshot(cluster.config);

        // Setup, before any fault: warehouses known everywhere, every row counted and replicated.
        // A region that has just started may answer 503 busy: setup retries with the same key.
        const setup = async (op: Operation, region: string, method: string, path: string, body: unknown, key: string): Promise<void> => {
          const deadline = Date.now() + 60_000;
          for (;;) {
            const answer = await send('setup', op, region, method, path, body, key);
            if (answer.status !== undefined && answer.status < 300) return;
            if ((answer.status !== undefined && answer.status < 500) || Date.now() > deadline)
              throw new Error(`setup: ${method} ${path} answered ${answer.status ?? answer.error}: ${JSON.stringify(answer.answer)}`);
            await delay(500, undefined, { signal: options.signal });
          }
        };
        for (const w of world.warehouses)
          await setup(
            'register',
            w.region,
            'PUT',
            `/v1/warehouses/${w.id}`,
            { region: w.region, name: `chaos ${w.id}` },
            `${id}-setup-${w.id}`,
          );
        for (const r of world.regions) {
          for (;;) {
            const listed = await http.send('GET', `${r.url.replace(/\/$/, '')}/v1/warehouses`);
            if (listed.status === 200 && (JSON.parse(listed.body) as { items: unknown[] }).items.length === world.warehouses.length) break;
            await delay(200, undefined, { signal: options.signal });
          }
        }
        for (const w of world.warehouses)
          for (const sku of SKUS)
            await setup(
              'count',
              w.region,
              'PUT',
              `/v1/warehouses/${w.id}/stock/${sku}`,
              { onHand: INITIAL_ON_HAND },
              `${id}-setup-${w.id}-${sku}`,
            );
        const ready = await settle(read, 60_000, log);
        if (ready.reasons.length > 0) throw new Error(`the cluster did not settle after setup: ${ready.reasons.join('; ')}`);
        log(`setup done: ${world.warehouses.length} warehouses × ${SKUS.length} SKUs counted and replicated`);

        // Load and faults, side by side, for the run's duration.
        const stop = new AbortController();
        const timer = setTimeout(() => stop.abort(), options.durationMs);
        const onAbort = (): void => stop.abort();
        options.signal.addEventListener('abort', onAbort);
        const faultKinds = options.faults.filter((f) => f !== 'broker-restart' || options.restartBroker);
        log(
          `running ${options.clients} clients and faults [${faultKinds.join(', ')}] for ${options.durationMs / 1000} s, seed ${options.seed}`,
        );
        const faultRandom = new Random(options.seed ^ 0x5eed);
        const databases = new Map(cluster.config.regions.map((r) => [r.id, r.databases.map((d) => d.url)]));
        const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
        const faults = runFaults(
          { cluster, databases, adminUrl, restartBroker: options.restartBroker },
          { ...DEFAULT_SCHEDULE, faults: faultKinds },
          faultRandom,
          (f) => append<FaultRecord>({ type: 'fault', seq: history.length + 1, ...f }),
          stop.signal,
          log,
        );
        const clients = Array.from({ length: options.clients }, (_, i) =>
          runClient(`c${i + 1}`, world, send, new Random(options.seed * 1_000 + i + 1), id, stop.signal),
        );
        const outcomes = await Promise.allSettled([faults, ...clients]);
        clearTimeout(timer);
        options.signal.removeEventListener('abort', onAbort);
        options.signal.throwIfAborted();
        for (const o of outcomes)
          if (o.status === 'rejected')
            log(`a load or fault task failed: ${o.reason instanceof Error ? o.reason.message : String(o.reason)}`);

        // Every region up again (a fault that failed half-way may have left one down), then wait.
        for (const r of world.regions) {
          try {
            const attempts = await startWithRetries(cluster, r.id, 10);
            log(`${r.id} was down after the faults: restarted (${attempts} attempts)`);
          } catch (error) {
            if (!(error instanceof LocalClusterError && error.code === LocalClusterErrorCode.AlreadyRunning)) throw error;
          }
        }
        const settleStart = Date.now();
        log(`faults stopped; waiting up to ${options.settleTimeoutMs / 1000} s for quiescence`);
        const settled = await settle(read, options.settleTimeoutMs, log);
        const settleMs = Date.now() - settleStart;
        writeFileSync(historyFile.replace(/\.jsonl$/, '.snapshot.json'), JSON.stringify(settled.snapshot));

        const violations = checkAll({ history, snapshot: settled.snapshot });
        const operations: Record<string, OperationCounts> = {};
        for (const r of history.filter((h): h is RequestRecord => h.type === 'request' && h.client !== 'setup')) {
          const c = (operations[r.op as Operation] ??= { sent: 0, ok: 0, refused: 0, unanswered: 0 });
          c.sent++;
          if (r.status === undefined) c.unanswered++;
          else if (r.status < 300) c.ok++;
          else c.refused++;
        }
        const faultCounts: Record<string, number> = {};
        for (const f of history) if (f.type === 'fault') faultCounts[f.fault] = (faultCounts[f.fault] ?? 0) + 1;
        return {
          seed: options.seed,
          durationMs: options.durationMs,
          faultKinds,
          historyFile,
          operations,
          faults: faultCounts,
          settleMs,
          unsettled: settled.reasons,
          violations,
          passed: [...violations.values()].every((v) => v.length === 0),
        };
      },
    );
  } finally {
    http.close();
    out.end();
  }
}

/** The report as people read it: counts, then each check with its violations and their excerpts. */
export function formatReport(report: ChaosReport, maxPerCheck = 5): string {
  const lines: string[] = [];
  lines.push(`seed ${report.seed}, ${report.durationMs / 1000} s of load, faults [${report.faultKinds.join(', ')}]`);
  lines.push(`history: ${report.historyFile}`);
  for (const [op, c] of Object.entries(report.operations))
    lines.push(`  ${op.padEnd(9)} sent ${c.sent}, ok ${c.ok}, refused ${c.refused}, unanswered ${c.unanswered}`);
  lines.push(
    `faults: ${
      Object.entries(report.faults)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  lines.push(
    `settled after ${(report.settleMs / 1000).toFixed(1)} s${report.unsettled.length > 0 ? `, NOT quiescent: ${report.unsettled.join('; ')}` : ''}`,
  );
  for (const name of CHECKS) {
    const found = report.violations.get(name) ?? [];
    lines.push(`${found.length === 0 ? 'ok  ' : 'FAIL'} ${name}${found.length > 0 ? `: ${found.length} violations` : ''}`);
    for (const v of found.slice(0, maxPerCheck)) {
      lines.push(`     - ${v.message}`);
      for (const r of v.excerpt.slice(-6)) lines.push(`         ${JSON.stringify(r).slice(0, 400)}`);
    }
    if (found.length > maxPerCheck) lines.push(`     ... and ${found.length - maxPerCheck} more`);
  }
  lines.push(report.passed ? 'verdict: PASS' : 'verdict: FAIL');
  return lines.join('\n');
}
