import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { BENCHMARKS, benchSetting } from './bench.command.js';

describe('stockmesh bench', () => {
  it('knows every benchmark package.json runs, by the same script', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    const npmBenches = Object.entries(scripts)
      .filter(([name, command]) => name.startsWith('bench:') && command.includes('node dist/bench/'))
      .map(([name, command]) => [name.slice('bench:'.length), /node (dist\/bench\/\S+\.js)/.exec(command)?.[1]]);
    const cli = BENCHMARKS.map((b) => [b.name, `dist/${b.script}`]);
    expect(new Set(cli.map((c) => c.join(' ')))).toEqual(new Set(npmBenches.map((n) => n.join(' '))));
  });

  it('takes BENCH_* and KAFKA_* settings as NAME=value, and nothing else', () => {
    expect(benchSetting('BENCH_SECONDS=5', { BENCH_EVENTS: '10' })).toEqual({ BENCH_EVENTS: '10', BENCH_SECONDS: '5' });
    expect(benchSetting('KAFKA_BROKERS=a:1,b:2')).toEqual({ KAFKA_BROKERS: 'a:1,b:2' });
    expect(benchSetting('BENCH_JSON=')).toEqual({ BENCH_JSON: '' });
    for (const bad of ['DATABASE_URL=x', 'BENCH_SECONDS', 'bench_seconds=5', '=5', 'PATH=/tmp'])
      expect(() => benchSetting(bad)).toThrow(InvalidArgumentError);
  });
});
