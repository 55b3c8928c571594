import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadAppConfig } from './environment.js';

describe('loadAppConfig', () => {
  it('derives the default three-region cluster with two databases per region', () => {
    const config = loadAppConfig({ STOCKMESH_REGION: 'eu-west' });
    expect(config.cluster.regions.map((r) => [r.id, r.port])).toEqual([
      ['us-east', 3001],
      ['eu-west', 3002],
      ['ap-south', 3003],
    ]);
    expect(config.region.id).toBe('eu-west');
    expect(config.region.databases.map((d) => [d.name, d.url, d.shards])).toEqual([
      ['eu-west/0', 'postgres://postgres@127.0.0.1:5432/stockmesh_eu_west_0', { from: 0, to: 7 }],
      ['eu-west/1', 'postgres://postgres@127.0.0.1:5432/stockmesh_eu_west_1', { from: 8, to: 15 }],
    ]);
    expect(config.shardMap.databaseFor(9).name).toBe('eu-west/1');
  });

  it('reads regions, shards and ports from the environment', () => {
    const config = loadAppConfig({
      STOCKMESH_REGION: 'b',
      STOCKMESH_REGIONS: 'a, b',
      STOCKMESH_SHARDS: '8',
      STOCKMESH_DATABASES_PER_REGION: '4',
      STOCKMESH_BASE_PORT: '4000',
      DATABASE_URL: 'postgresql://u:p@db.internal:6543/x?sslmode=require',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
    });
    expect(config.region).toMatchObject({ id: 'b', port: 4001, url: 'http://127.0.0.1:4001' });
    expect(config.region.databases).toHaveLength(4);
    expect(config.region.databases[3].url).toBe('postgresql://u:p@db.internal:6543/stockmesh_b_3?sslmode=require');
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadAppConfig({ STOCKMESH_REGION: 'US East', STOCKMESH_SHARDS: 'many', KAFKA_BROKERS: 'nope', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).problems.join('\n');
    for (const name of ['STOCKMESH_REGION', 'STOCKMESH_SHARDS', 'KAFKA_BROKERS', 'LOG_LEVEL']) expect(text).toContain(name);
  });

  it('reads the hold settings of an owner, and refuses a grace of zero or a lock timeout above a minute', () => {
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).holds).toEqual({ lockTimeoutMs: 1_000, expiryGraceMs: 300_000, sweepMs: 1_000 });
    const set = loadAppConfig({
      STOCKMESH_REGION: 'us-east',
      STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '250',
      STOCKMESH_HOLD_GRACE_SECONDS: '60',
      STOCKMESH_HOLD_SWEEP_MS: '5000',
    });
    expect(set.holds).toEqual({ lockTimeoutMs: 250, expiryGraceMs: 60_000, sweepMs: 5_000 });
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_HOLD_GRACE_SECONDS: '0' })).toThrow(/STOCKMESH_HOLD_GRACE_SECONDS/);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '60001' })).toThrow(
      /STOCKMESH_HOLD_LOCK_TIMEOUT_MS/,
    );
  });

  it('refuses a region that is not in the cluster, and a missing region', () => {
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'mars-1' })).toThrow(/mars-1 is not in the cluster/);
    expect(() => loadAppConfig({})).toThrow(/STOCKMESH_REGION/);
  });

  it('refuses more databases than shards', () => {
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_SHARDS: '2', STOCKMESH_DATABASES_PER_REGION: '3' })).toThrow(
      ConfigError,
    );
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_SHARDS: '2', STOCKMESH_DATABASES_PER_REGION: '3' })).toThrow(
      /cannot split 2 shards into 3/,
    );
  });
});

describe('cluster files', () => {
  const write = (content: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'stockmesh-cluster-'));
    const path = join(dir, 'cluster.json');
    writeFileSync(path, content);
    return path;
  };
  const file = {
    shardCount: 4,
    regions: [
      {
        id: 'a',
        url: 'http://a:3000',
        host: '0.0.0.0',
        port: 3000,
        databases: [{ name: 'a/0', url: 'postgres://db-a/a0', shards: { from: 0, to: 3 } }],
      },
      {
        id: 'b',
        url: 'http://b:3000',
        host: '0.0.0.0',
        port: 3000,
        databases: [{ name: 'b/0', url: 'postgres://db-b/b0', shards: { from: 0, to: 3 } }],
      },
    ],
  };

  it('describes the cluster instead of the defaults', () => {
    const config = loadAppConfig({ STOCKMESH_REGION: 'b', STOCKMESH_CLUSTER_FILE: write(JSON.stringify(file)) });
    expect(config.cluster.regions.map((r) => r.url)).toEqual(['http://a:3000', 'http://b:3000']);
    expect(config.shardMap.databaseFor(3).url).toBe('postgres://db-b/b0');
  });

  it('refuses a misspelt key, an unreadable file and shards left unmapped, with a ConfigError', () => {
    const misspelt = { ...file, shardcount: 4 };
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'a', STOCKMESH_CLUSTER_FILE: write(JSON.stringify(misspelt)) })).toThrow(ConfigError);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'a', STOCKMESH_CLUSTER_FILE: write('{not json') })).toThrow(/cannot read/);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'a', STOCKMESH_CLUSTER_FILE: '/nonexistent/cluster.json' })).toThrow(ConfigError);
    const gap = { ...file, shardCount: 8 };
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'a', STOCKMESH_CLUSTER_FILE: write(JSON.stringify(gap)) })).toThrow(
      /shard 4 is not mapped/,
    );
  });
});

describe('Kafka SASL settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockmesh-sasl-'));
  const base = { STOCKMESH_REGION: 'us-east' };

  it('has none by default: a plaintext cluster without authentication', () => {
    expect(loadAppConfig(base).kafka.sasl).toBeUndefined();
  });

  it('takes the password from the environment or from a file (without its trailing newline)', () => {
    const file = join(dir, 'password');
    writeFileSync(file, 's3cret\n', { mode: 0o600 });
    expect(loadAppConfig({ ...base, KAFKA_SASL_USERNAME: 'region-us-east', KAFKA_SASL_PASSWORD: 'pw' }).kafka.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'region-us-east',
      password: 'pw',
    });
    expect(loadAppConfig({ ...base, KAFKA_SASL_USERNAME: 'region-us-east', KAFKA_SASL_PASSWORD_FILE: file }).kafka.sasl?.password).toBe(
      's3cret',
    );
  });

  it.each([
    ['a password without a user', { KAFKA_SASL_PASSWORD: 'pw' }, /KAFKA_SASL_USERNAME/],
    ['a user without a password', { KAFKA_SASL_USERNAME: 'u' }, /KAFKA_SASL_PASSWORD/],
    ['both a password and a file', { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'pw', KAFKA_SASL_PASSWORD_FILE: '/x' }, /exactly one/],
    ['an unreadable file', { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: '/nonexistent/pw' }, /cannot read/],
    [
      'an unknown mechanism',
      { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'pw', KAFKA_SASL_MECHANISM: 'gssapi' },
      /KAFKA_SASL_MECHANISM/,
    ],
  ])('refuses %s', (_, env, message) => {
    expect(() => loadAppConfig({ ...base, ...env })).toThrow(message);
  });
});
