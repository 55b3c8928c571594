import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { AppConfig } from './app-config.js';
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
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).holds).toEqual({
      lockTimeoutMs: 1_000,
      expiryGraceMs: 300_000,
      sweepMs: 1_000,
      auditMs: 60_000,
      auditMinAgeMs: 60_000,
    });
    const set = loadAppConfig({
      STOCKMESH_REGION: 'us-east',
      STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '250',
      STOCKMESH_HOLD_GRACE_SECONDS: '60',
      STOCKMESH_HOLD_SWEEP_MS: '5000',
      STOCKMESH_HOLD_AUDIT_SECONDS: '10',
      STOCKMESH_HOLD_AUDIT_MIN_AGE_SECONDS: '5',
    });
    expect(set.holds).toEqual({ lockTimeoutMs: 250, expiryGraceMs: 60_000, sweepMs: 5_000, auditMs: 10_000, auditMinAgeMs: 5_000 });
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_HOLD_AUDIT_SECONDS: '0' })).toThrow(/STOCKMESH_HOLD_AUDIT_SECONDS/);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_HOLD_GRACE_SECONDS: '0' })).toThrow(/STOCKMESH_HOLD_GRACE_SECONDS/);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '60001' })).toThrow(
      /STOCKMESH_HOLD_LOCK_TIMEOUT_MS/,
    );
  });

  it('takes a bootstrap admin key of 32-256 printable characters, and never repeats a refused one', () => {
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).auth.adminKey).toBeUndefined();
    const key = 'k'.repeat(32);
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_ADMIN_KEY: key }).auth.adminKey).toBe(key);
    for (const bad of ['too-short-secret', `${'k'.repeat(31)} x`, 'k'.repeat(257)]) {
      let error: unknown;
      try {
        loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_ADMIN_KEY: bad });
      } catch (e) {
        error = e;
      }
      expect((error as ConfigError).message).toContain('STOCKMESH_ADMIN_KEY must be 32-256 printable ASCII characters');
      expect((error as ConfigError).message).not.toContain(bad);
    }
  });

  it('serves /docs unless STOCKMESH_DOCS=false', () => {
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).http.docs).toBe(true);
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_DOCS: 'false' }).http.docs).toBe(false);
  });

  it('reads the transfer timeout, 15 minutes by default, and refuses one out of bounds', () => {
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).transfers.timeoutMs).toBe(900_000);
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_TRANSFER_TIMEOUT_MS: '60000' }).transfers.timeoutMs).toBe(60_000);
    for (const bad of ['999', '2592000001', '15m', '-1']) {
      expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_TRANSFER_TIMEOUT_MS: bad })).toThrow(
        /STOCKMESH_TRANSFER_TIMEOUT_MS/,
      );
    }
  });

  it('reads the limits and the reservation deadline, with documented defaults, and refuses values out of bounds', () => {
    const defaults = loadAppConfig({ STOCKMESH_REGION: 'us-east' });
    expect(defaults.limits).toEqual({ ratePerSecond: 100, burst: 200, exemptAdmin: false, openReservations: 1_000, unitsHeld: 10_000 });
    expect(defaults.reservations).toEqual({ deadlineMs: 10_000, maxLifetimeMs: 259_200_000 });
    const set = loadAppConfig({
      STOCKMESH_REGION: 'us-east',
      STOCKMESH_RATE_LIMIT: '5',
      STOCKMESH_RATE_BURST: '10',
      STOCKMESH_LIMITS_EXEMPT_ADMIN: 'true',
      STOCKMESH_QUOTA_OPEN_RESERVATIONS: '3',
      STOCKMESH_QUOTA_UNITS_HELD: '30',
      STOCKMESH_RESERVATION_DEADLINE_MS: '2500',
    });
    expect(set.limits).toEqual({ ratePerSecond: 5, burst: 10, exemptAdmin: true, openReservations: 3, unitsHeld: 30 });
    expect(set.reservations.deadlineMs).toBe(2_500);
    for (const [name, bad] of [
      ['STOCKMESH_RATE_LIMIT', '0'],
      ['STOCKMESH_RATE_BURST', '1.5'],
      ['STOCKMESH_LIMITS_EXEMPT_ADMIN', 'yes'],
      ['STOCKMESH_QUOTA_OPEN_RESERVATIONS', '0'],
      ['STOCKMESH_QUOTA_UNITS_HELD', '-1'],
      ['STOCKMESH_RESERVATION_DEADLINE_MS', '999'],
      ['STOCKMESH_RESERVATION_DEADLINE_MS', '60001'],
    ]) {
      expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', [name]: bad })).toThrow(new RegExp(name));
    }
  });

  it('reads the retention of finished rows, and refuses transfer receipts kept shorter than the transfers topic', () => {
    const day = 24 * 3_600_000;
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).retention).toEqual({
      reservationsMs: 7 * day,
      holdsMs: 7 * day,
      idempotencyMs: day,
      transferReceiptsMs: 35 * day,
      sweepMs: 60_000,
    });
    const set = loadAppConfig({
      STOCKMESH_REGION: 'us-east',
      STOCKMESH_IDEMPOTENCY_RETENTION_HOURS: '48',
      STOCKMESH_RETENTION_SWEEP_MS: '500',
    });
    expect(set.retention).toMatchObject({ idempotencyMs: 2 * day, sweepMs: 500 });
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_IDEMPOTENCY_RETENTION_HOURS: '0' })).toThrow(
      /STOCKMESH_IDEMPOTENCY_RETENTION_HOURS/,
    );
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_TRANSFER_RECEIPT_RETENTION_HOURS: '720' })).toThrow(
      /STOCKMESH_TRANSFER_RECEIPT_RETENTION_HOURS/,
    );
  });

  it('puts each internal listener at base port + 100 + i unless told otherwise', () => {
    expect(loadAppConfig({ STOCKMESH_REGION: 'eu-west' }).cluster.regions.map((r) => r.internal)).toEqual([
      { url: 'http://127.0.0.1:3101', host: '127.0.0.1', port: 3101 },
      { url: 'http://127.0.0.1:3102', host: '127.0.0.1', port: 3102 },
      { url: 'http://127.0.0.1:3103', host: '127.0.0.1', port: 3103 },
    ]);
    const moved = loadAppConfig({ STOCKMESH_REGION: 'eu-west', STOCKMESH_INTERNAL_BASE_PORT: '9001', STOCKMESH_INTERNAL_HOST: '10.0.0.2' });
    expect(moved.region.internal).toEqual({ url: 'http://10.0.0.2:9002', host: '10.0.0.2', port: 9002 });
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_INTERNAL_BASE_PORT: '3001' })).toThrow(
      /cannot share the public port/,
    );
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_INTERNAL_BASE_PORT: 'x' })).toThrow(/STOCKMESH_INTERNAL_BASE_PORT/);
  });

  it('reads the cluster secret from the environment or a file, never shows it, and refuses a short one', () => {
    const secret = 's3cret-'.repeat(6);
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).regionTrust).toEqual({
      secret: undefined,
      secretFile: undefined,
      maxSkewMs: 30_000,
    });
    const fromEnv = loadAppConfig({
      STOCKMESH_REGION: 'us-east',
      STOCKMESH_CLUSTER_SECRET: secret,
      STOCKMESH_INTERNAL_MAX_SKEW_SECONDS: '5',
    });
    expect(fromEnv.regionTrust.secret?.reveal().toString()).toBe(secret);
    expect(fromEnv.regionTrust.maxSkewMs).toBe(5_000);
    expect(JSON.stringify(fromEnv)).not.toContain(secret);
    expect(inspect(fromEnv, { depth: 10 })).not.toContain(secret);
    const dir = mkdtempSync(join(tmpdir(), 'stockmesh-secret-'));
    writeFileSync(join(dir, 'secret'), `${secret}\n`);
    expect(
      loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_CLUSTER_SECRET_FILE: join(dir, 'secret') })
        .regionTrust.secret?.reveal()
        .toString(),
    ).toBe(secret);
    let error: unknown;
    try {
      loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_CLUSTER_SECRET: 'short-and-weak' });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/STOCKMESH_CLUSTER_SECRET must be at least 32 characters/);
    expect((error as Error).message).not.toContain('short-and-weak');
    writeFileSync(join(dir, 'weak'), 'short-and-weak');
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_CLUSTER_SECRET_FILE: join(dir, 'weak') })).toThrow(
      /STOCKMESH_CLUSTER_SECRET_FILE: .*: secret 1 must be 32-1024/,
    );
    expect(() =>
      loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_CLUSTER_SECRET: secret, STOCKMESH_CLUSTER_SECRET_FILE: join(dir, 'secret') }),
    ).toThrow(/not both/);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_INTERNAL_MAX_SKEW_SECONDS: '0' })).toThrow(
      /STOCKMESH_INTERNAL_MAX_SKEW_SECONDS/,
    );
  });

  it('reads several secrets from a file during a rotation: the first signs, all are accepted', () => {
    const [first, second] = ['first-secret-'.repeat(3), 'second-secret-'.repeat(3)];
    const dir = mkdtempSync(join(tmpdir(), 'stockmesh-secret-'));
    const path = join(dir, 'secret');
    const load = (text: string): AppConfig['regionTrust'] => {
      writeFileSync(path, text);
      return loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_CLUSTER_SECRET_FILE: path }).regionTrust;
    };
    const trust = load(`# rotation of 2026-12-07\n\n${first}\r\n  ${second}  \n`);
    expect(trust.secretFile).toBe(path);
    expect(trust.secret?.reveal().toString()).toBe(first);
    expect(trust.secret?.accepted().map(String)).toEqual([first, second]);
    expect(trust.secret?.fingerprints()).toEqual([first, second].map((s) => createHash('sha256').update(s).digest('hex').slice(0, 12)));
    expect(inspect(trust, { depth: 10 }) + JSON.stringify(trust)).not.toMatch(/first-secret|second-secret/);
    // A bad line is named by its place, never quoted.
    const refusal = (text: string): string => {
      try {
        load(text);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(refusal(`${first}\nweak-one\n`)).toMatch(/secret 2 must be 32-1024 printable ASCII/);
    expect(refusal(`${first}\nweak-one\n`)).not.toContain('weak-one');
    expect(refusal('# only a comment\n')).toMatch(/holds no secret/);
    expect(refusal(Array.from({ length: 5 }, (_, i) => `${first}${i}`).join('\n'))).toMatch(/holds 5 secrets; at most 4/);
  });

  it('runs one instance by default; each of several gets an id and a metrics port of its own', () => {
    expect(loadAppConfig({ STOCKMESH_REGION: 'us-east' }).instances).toEqual({ count: 1, index: 1, id: 'us-east/1' });
    const second = loadAppConfig({
      STOCKMESH_REGION: 'us-east',
      STOCKMESH_INSTANCES: '3',
      STOCKMESH_INSTANCE_INDEX: '2',
      STOCKMESH_METRICS_PORT: '9100',
    });
    expect(second.instances).toEqual({ count: 3, index: 2, id: 'us-east/2' });
    expect(second.metrics.port).toBe(9101);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_INSTANCES: '0' })).toThrow(/STOCKMESH_INSTANCES/);
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_INSTANCES: '2', STOCKMESH_INSTANCE_INDEX: '3' })).toThrow(
      /STOCKMESH_INSTANCE_INDEX: 3 is above STOCKMESH_INSTANCES \(2\)/,
    );
    expect(() => loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_INSTANCES: '4', STOCKMESH_METRICS_PORT: '65534' })).toThrow(
      /STOCKMESH_METRICS_PORT/,
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
        internal: { url: 'http://a:3100', host: '0.0.0.0', port: 3100 },
        databases: [{ name: 'a/0', url: 'postgres://db-a/a0', shards: { from: 0, to: 3 } }],
      },
      {
        id: 'b',
        url: 'http://b:3000',
        host: '0.0.0.0',
        port: 3000,
        internal: { url: 'http://b:3100', host: '0.0.0.0', port: 3100 },
        databases: [{ name: 'b/0', url: 'postgres://db-b/b0', shards: { from: 0, to: 3 } }],
      },
    ],
  };

  it('describes the cluster instead of the defaults', () => {
    const config = loadAppConfig({ STOCKMESH_REGION: 'b', STOCKMESH_CLUSTER_FILE: write(JSON.stringify(file)) });
    expect(config.cluster.regions.map((r) => r.url)).toEqual(['http://a:3000', 'http://b:3000']);
    expect(config.shardMap.databaseFor(3).url).toBe('postgres://db-b/b0');
    expect(config.region.internal).toEqual({ url: 'http://b:3100', host: '0.0.0.0', port: 3100 });
  });

  it('refuses a region without an internal listener, or with one on its public port', () => {
    const [a, b] = file.regions;
    const { internal: _dropped, ...withoutInternal } = a;
    expect(() =>
      loadAppConfig({ STOCKMESH_REGION: 'a', STOCKMESH_CLUSTER_FILE: write(JSON.stringify({ ...file, regions: [withoutInternal, b] })) }),
    ).toThrow(/region a: internal: required/);
    const shared = { ...a, internal: { url: 'http://a:3000', host: '0.0.0.0', port: 3000 } };
    expect(() =>
      loadAppConfig({ STOCKMESH_REGION: 'a', STOCKMESH_CLUSTER_FILE: write(JSON.stringify({ ...file, regions: [shared, b] })) }),
    ).toThrow(/cannot share the public port 3000/);
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
