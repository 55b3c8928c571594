// A region entry for benchmarks that profile: runs the real entry (REGION_ENTRY) under
// `node --cpu-prof` with the profile written to BENCH_CPU_PROF (NODE_OPTIONS may not carry
// --cpu-prof), passes stop signals on and exits as the region did.
import { spawn } from 'node:child_process';
import { REGION_ENTRY } from '../infra/cluster/local-cluster.js';

const dir = process.env.BENCH_CPU_PROF ?? '.';
const region = process.env.STOCKMESH_REGION ?? 'region';
const child = spawn(
  process.execPath,
  ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${region}-${process.pid}.cpuprofile`, REGION_ENTRY],
  {
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
