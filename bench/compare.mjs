// Compares two result files of `npm run bench:reservations` (BENCH_JSON): prints a Markdown table
// of every scenario's figures before and after, and a Mermaid bar chart of holds/s beside the
// pgbench ceilings of the same runs, ready for BENCHMARKS.md. Prints figures, judges nothing.
//
//   node bench/compare.mjs <before.json> <after.json> [label-before] [label-after]
import { readFileSync } from 'node:fs';

const [beforeFile, afterFile, beforeLabel, afterLabel] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  console.error('usage: node bench/compare.mjs <before.json> <after.json> [label-before] [label-after]');
  process.exit(2);
}
const runs = [beforeFile, afterFile].map((file) => JSON.parse(readFileSync(file, 'utf8')));
const labels = [beforeLabel ?? `before (${runs[0].commit})`, afterLabel ?? `after (${runs[1].commit})`];
const fixed = (n, digits = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '–');
const ceilingOf = (run, name) => run.ceiling.find((c) => c.name === name)?.tps;

const rows = [];
for (const scenario of runs[1].scenarios) {
  const pair = runs.map((run) => run.scenarios.find((s) => s.name === scenario.name));
  const cells = (pick, digits) => pair.map((s) => (s ? fixed(pick(s), digits) : '–'));
  rows.push([`${scenario.name} holds/s`, ...cells((s) => s.holdsPerSecond)]);
  rows.push([
    `${scenario.name} p50 / p99 ms`,
    ...pair.map((s) => (s ? `${fixed(s.latencyMs.p50, 0)} / ${fixed(s.latencyMs.p99, 0)}` : '–')),
  ]);
  rows.push([`${scenario.name} DB transactions per request`, ...cells((s) => s.transactionsPerRequest)]);
  rows.push([`${scenario.name} regions CPU (cores)`, ...cells((s) => s.cores.regions, 2)]);
}
for (const name of ['owner hold transaction, cold rows', 'owner hold transaction, one hot row', 'UPDATE alone, cold rows']) {
  rows.push([`pgbench: ${name} (tps)`, ...runs.map((run) => fixed(ceilingOf(run, name), 0))]);
}
rows.push(['load average at the end', ...runs.map((run) => run.machine['load average']?.split(' (')[0] ?? '–')]);

const line = (cells) => `| ${cells.join(' | ')} |`;
console.log(line(['figure', ...labels]));
console.log(line(['---', ...labels.map(() => '---:')]));
for (const row of rows) console.log(line(row));

const scenarios = runs[1].scenarios.map((s) => s.name);
const bars = runs.map((run) => scenarios.map((name) => Math.round(run.scenarios.find((s) => s.name === name)?.holdsPerSecond ?? 0)));
const ceiling = Math.round(ceilingOf(runs[1], 'owner hold transaction, cold rows') ?? 0);
console.log('\n```mermaid');
console.log('xychart-beta');
console.log(`  title "holds/s, ${labels[0]} then ${labels[1]} (the line: pgbench owner hold transaction, ${ceiling} tps)"`);
console.log(`  x-axis [${scenarios.flatMap((name) => [`"${name} before"`, `"${name} after"`]).join(', ')}]`);
console.log(`  y-axis "holds/s" 0 --> ${Math.ceil((Math.max(ceiling, ...bars.flat()) * 1.1) / 100) * 100}`);
console.log(`  bar [${scenarios.flatMap((_, i) => [bars[0][i], bars[1][i]]).join(', ')}]`);
console.log(`  line [${scenarios.flatMap(() => [ceiling, ceiling]).join(', ')}]`);
console.log('```');
