import { describe, expect, it } from '@jest/globals';
import {
  clusterFromEnvironment,
  describeExit,
  describeProvisioning,
  endpoint,
  formatLine,
  probeHost,
  pushBounded,
} from './local-cluster.js';

describe('clusterFromEnvironment', () => {
  it('needs no STOCKMESH_REGION and ignores a set one', () => {
    const cluster = clusterFromEnvironment({ STOCKMESH_REGIONS: 'a,b', STOCKMESH_BASE_PORT: '4100', STOCKMESH_REGION: 'Not A Region' });
    expect(cluster.regions.map((r) => [r.id, r.url])).toEqual([
      ['a', 'http://127.0.0.1:4100'],
      ['b', 'http://127.0.0.1:4101'],
    ]);
  });

  it('still refuses bad cluster settings', () => {
    expect(() => clusterFromEnvironment({ STOCKMESH_BASE_PORT: 'http' })).toThrow(/STOCKMESH_BASE_PORT/);
  });
});

describe('endpoint', () => {
  it('joins a path to a base URL with or without a trailing slash or a path of its own', () => {
    expect(endpoint('http://127.0.0.1:3001', 'health/ready')).toBe('http://127.0.0.1:3001/health/ready');
    expect(endpoint('http://127.0.0.1:3001/', '/docs')).toBe('http://127.0.0.1:3001/docs');
    expect(endpoint('https://proxy.example/us-east', 'health/ready')).toBe('https://proxy.example/us-east/health/ready');
  });
});

describe('probeHost', () => {
  it('knocks on loopback for a wildcard bind, on the host itself otherwise', () => {
    expect(probeHost('0.0.0.0')).toBe('127.0.0.1');
    expect(probeHost('::')).toBe('::1');
    expect(probeHost('10.0.0.7')).toBe('10.0.0.7');
  });
});

describe('describeExit', () => {
  it('names the signal when there is one, else the code', () => {
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('signal SIGKILL');
    expect(describeExit({ code: 1, signal: null })).toBe('code 1');
  });
});

describe('formatLine', () => {
  it('prefixes lines with their padded source for people', () => {
    expect(formatLine('prefixed', 'eu-west', 'hello', 9)).toBe('eu-west   | hello');
  });

  it('makes pino lines readable for people at a terminal: time, level, message and fields on one line', () => {
    const pino = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 11, 7, 1, 2, 3, 456),
      region: 'us-east',
      pid: 7,
      reqId: 'r-1',
      msg: 'owner did not answer',
    });
    const shown = formatLine('pretty', 'us-east', pino, 8);
    expect(shown).toMatch(/^us-east {2}\| \[\d\d:\d\d:03\.456\] WARN: owner did not answer \{"reqId":"r-1"\}$/);
    expect(shown).not.toContain('pid');
    // Colour only when asked; anything not JSON is shown as it came.
    expect(formatLine('pretty', 'us-east', pino, 8, true)).toContain('\u001b[');
    expect(formatLine('pretty', 'us-east', 'Error: boom', 8)).toBe('us-east  | Error: boom');
  });

  it('passes JSON object lines through and wraps anything else, so a log file stays JSON lines', () => {
    const pino = '{"level":30,"time":1,"region":"us-east","msg":"listening"}';
    expect(formatLine('json', 'us-east', pino)).toBe(pino);
    for (const line of ['Error: boom', '{not json', '[1,2]']) {
      expect(JSON.parse(formatLine('json', 'us-east', line))).toMatchObject({ source: 'us-east', msg: line });
    }
  });
});

describe('pushBounded', () => {
  it('keeps only the last lines', () => {
    const lines: string[] = [];
    for (const line of ['1', '2', '3', '4']) pushBounded(lines, line, 3);
    expect(lines).toEqual(['2', '3', '4']);
  });
});

describe('describeProvisioning', () => {
  it('says whether the database was created and which migrations ran, without the password', () => {
    const db = { url: 'postgres://u:secret@db:5432/stockmesh_us_east_0' };
    expect(describeProvisioning(db, { database: 'us-east/0', created: true, migrations: ['InitialSchema1'] })).toBe(
      'us-east/0 (postgres://u:***@db:5432/stockmesh_us_east_0): created, migrations applied: InitialSchema1',
    );
    expect(describeProvisioning(db, { database: 'us-east/0', created: false, migrations: [] })).toMatch(
      /: existing, no pending migrations$/,
    );
  });
});
