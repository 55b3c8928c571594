// Summarises a V8 CPU profile (`node --cpu-prof`): where the samples went, by package or source
// file (self time) and by function (self time), and the share under a few named frames (total
// time). Usage: node bench/profile-summary.mjs <file.cpuprofile> [top=25] [frame names...]
import { readFileSync } from 'node:fs';

const [file, topArg, ...frames] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top] [function names to total...]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
const idle = [...hits]
  .filter(([id]) => ['(idle)', '(program)'].includes(nodes.get(id).callFrame.functionName))
  .reduce((s, [, h]) => s + h, 0);

const where = (url) => {
  if (!url) return '(native/v8)';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const d = url.match(/dist\/(.*)$/);
  return d ? d[1] : url;
};
const byPlace = new Map();
const byFunction = new Map();
for (const [id, h] of hits) {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  if (functionName === '(idle)' || functionName === '(program)') continue;
  const place = where(url);
  byPlace.set(place, (byPlace.get(place) ?? 0) + h);
  const key = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + h);
}
const busy = total - idle;
const pct = (h) => `${((100 * h) / busy).toFixed(1)} %`.padStart(7);
const ms = (profile.endTime - profile.startTime) / 1000;
console.log(`${file}: ${total} samples over ${(ms / 1000).toFixed(1)} s, ${busy} busy (percentages of busy samples)`);
console.log('\nself time by package / file');
for (const [k, h] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(h)}  ${k}`);
console.log('\nself time by function');
for (const [k, h] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(h)}  ${k}`);
if (frames.length > 0) {
  console.log('\ntotal time under frames');
  for (const name of frames) {
    let under = 0;
    for (const [id, h] of hits) {
      for (let at = id; at !== undefined; at = parent.get(at)) {
        if (nodes.get(at).callFrame.functionName === name) {
          under += h;
          break;
        }
      }
    }
    console.log(`${pct(under)}  ${name}`);
  }
}
