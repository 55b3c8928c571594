import { InvalidArgumentError, type Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';

/** One benchmark of `bench/` (see BENCHMARKS.md): what `stockmesh bench run <name>` runs. */
export interface Benchmark {
  readonly name: string;
  /** The compiled script, relative to the build's root (`dist/`). */
  readonly script: string;
  readonly measures: string;
  /** What it starts: its own cluster, one region, or nothing. */
  readonly starts: string;
  /** Its knobs (environment variables), as BENCHMARKS.md documents them. */
  readonly settings: readonly string[];
}

export const BENCHMARKS: readonly Benchmark[] = [
  {
    name: 'reservations',
    script: 'bench/reservations.js',
    measures: 'reservations per second over HTTP, beside pgbench running the same statements',
    starts: 'three regions',
    settings: [
      'BENCH_SECONDS',
      'BENCH_CONCURRENCY',
      'BENCH_SCENARIOS',
      'BENCH_REGIONS',
      'BENCH_PGBENCH_CLIENTS',
      'BENCH_JSON',
      'BENCH_CPU_PROF',
    ],
  },
  {
    name: 'holds',
    script: 'bench/owner-holds.js',
    measures: 'holds per second one owner places in-process (group commit), beside pgbench',
    starts: 'one region',
    settings: ['BENCH_SECONDS', 'BENCH_CONCURRENCY'],
  },
  {
    name: 'convergence',
    script: 'bench/convergence.js',
    measures: 'how fast a change reaches the other regions, and how fast a backlog is worked off',
    starts: 'three regions',
    settings: ['BENCH_RATE', 'BENCH_SECONDS', 'BENCH_BACKLOG', 'BENCH_CPU_PROF'],
  },
  {
    name: 'apply',
    script: 'bench/replicator-apply.js',
    measures: 'events per second one replicator applies, beside kafkajs alone on the same broker',
    starts: 'two regions',
    settings: ['BENCH_EVENTS', 'BENCH_SKUS', 'BENCH_CPU_PROF'],
  },
  {
    name: 'join',
    script: 'bench/region-join.js',
    measures: 'how long a region joining the cluster takes to rebuild 1,000,000 rows and be ready, beside kafkajs and PostgreSQL alone',
    starts: 'two regions',
    settings: ['BENCH_ROWS'],
  },
  {
    name: 'shard-move',
    script: 'bench/shard-move.js',
    measures:
      'an online move of half a region’s shards to a second PostgreSQL server and back under writes: copy rate, write pause, what clients saw',
    starts: 'one region in-process and a second PostgreSQL server',
    settings: ['BENCH_ROWS', 'BENCH_CONCURRENCY'],
  },
  {
    name: 'cycle-count',
    script: 'bench/cycle-count.js',
    measures: 'a full cycle count through POST /v1/stock/batch, and how soon every region converges',
    starts: 'three regions',
    settings: ['BENCH_ROWS', 'BENCH_BATCH', 'BENCH_CONCURRENCY'],
  },
  {
    name: 'parse',
    script: 'bench/parse-event.js',
    measures: 'CPU per stock.changed record in parseEvent, beside the class-validator path',
    starts: 'nothing',
    settings: ['BENCH_EVENTS'],
  },
];

/** `NAME=value` for a benchmark's setting; only BENCH_* (and KAFKA_*) names, so no region setting is changed by mistake. */
export function benchSetting(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^((?:BENCH|KAFKA)_[A-Z0-9_]+)=(.*)$/s.exec(value);
  if (!match) throw new InvalidArgumentError('a setting is NAME=value, NAME a BENCH_* or KAFKA_* variable (see stockmesh bench list)');
  return { ...previous, [match[1]]: match[2] };
}

/** The root of the build this CLI runs from (`dist/`): the benchmarks are compiled next to it. */
function buildRoot(): string {
  // dist/apps/cli/src/commands/bench.command.js -> dist/
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
}

/** `m:ss` since `started`. */
function elapsed(started: number): string {
  const seconds = Math.floor((Date.now() - started) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * Runs a benchmark as a child process, as `npm run bench:<name>` does after its build. Its result
 * tables (stdout) are printed as they come; its progress messages (`bench: ...` on stdout and
 * stderr) are shown on a terminal as one line that keeps being rewritten with the time so far,
 * and printed in full when not on a terminal. Resolves its exit code.
 */
function runBenchmark(bench: Benchmark, settings: Record<string, string>): Promise<number> {
  const script = resolve(buildRoot(), bench.script);
  if (!existsSync(script)) throw new CliError(`${script} is not built: run npm run build first (the Docker image has it)`, 1);
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...settings }, stdio: ['ignore', 'pipe', 'pipe'] });
  const live = process.stderr.isTTY === true;
  const started = Date.now();
  let last = `starting ${bench.name}`;
  let shown = false;
  const redraw = (): void => {
    if (!live) return;
    const columns = process.stderr.columns || 100;
    process.stderr.write(`\r\x1b[2K[${elapsed(started)}] ${last}`.slice(0, columns + 4));
    shown = true;
  };
  const clear = (): void => {
    if (shown) process.stderr.write('\r\x1b[2K');
    shown = false;
  };
  const ticker = live ? setInterval(redraw, 1_000) : undefined;
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void): void => {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    });
    stream.on('end', () => rest && onLine(rest));
  };
  const progress = (line: string): boolean => {
    const message = /^bench: (.*)$/.exec(line)?.[1];
    if (message === undefined) return false;
    last = message;
    if (live) redraw();
    else process.stderr.write(`${line}\n`);
    return true;
  };
  lines(child.stdout, (line) => {
    if (progress(line)) return;
    clear();
    process.stdout.write(`${line}\n`);
    redraw();
  });
  lines(child.stderr, (line) => {
    if (progress(line)) return;
    clear();
    process.stderr.write(`${line}\n`);
    redraw();
  });
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code, signal) => {
      if (ticker) clearInterval(ticker);
      clear();
      process.stderr.write(
        `stockmesh: ${bench.name} ${code === 0 ? 'finished' : `failed (${signal ?? `exit ${code}`})`} after ${elapsed(started)}\n`,
      );
      done(code ?? 1);
    });
  });
}

/**
 * `bench list|run`: the project's benchmarks (BENCHMARKS.md), run from this build. The one part
 * of the CLI that does not go through a region's API: a benchmark starts its own throwaway
 * cluster, on throwaway databases and topics, and drops them at the end.
 */
export function benchCommand(program: Command, output: () => Output): void {
  const bench = program
    .command('bench')
    .description('the benchmarks of BENCHMARKS.md, run from this build (they start their own clusters)');
  bench
    .command('list')
    .description('every benchmark: what it measures, what it starts, its settings')
    .action(() => {
      show(output(), BENCHMARKS, (list) =>
        printTable(
          ['name', 'starts', 'measures', 'settings'],
          list.map((b) => [b.name, b.starts, b.measures, b.settings.join(' ')]),
        ),
      );
    });
  bench
    .command('run')
    .description('runs one benchmark and prints its tables; it measures and asserts nothing (quiet machine wanted)')
    .argument('<name>', `one of ${BENCHMARKS.map((b) => b.name).join(', ')}`)
    .option('--set <NAME=value>', 'a setting for the benchmark, e.g. --set BENCH_SECONDS=5 (repeatable)', benchSetting)
    .action(async (name: string, options: { set?: Record<string, string> }) => {
      const chosen = BENCHMARKS.find((b) => b.name === name);
      if (!chosen) throw new CliError(`no benchmark ${name}; stockmesh bench list shows them`, 2);
      const code = await runBenchmark(chosen, options.set ?? {});
      if (code !== 0) throw new CliError(`benchmark ${name} failed`, 1);
    });
}
