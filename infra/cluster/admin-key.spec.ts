import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminKeyFile, localAdminKey } from './admin-key.js';

describe('adminKeyFile', () => {
  it('is in $STOCKMESH_HOME, where kafka.sh keeps its broker, .stockmesh by default', () => {
    expect(adminKeyFile({})).toBe(join('.stockmesh', 'admin-key'));
    expect(adminKeyFile({ STOCKMESH_HOME: '/tmp/h9home' })).toBe('/tmp/h9home/admin-key');
  });
});

describe('localAdminKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stockmesh-admin-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a key at the first start, owner-only, and keeps it for the next', () => {
    const file = join(dir, 'first', 'admin-key');
    const made = localAdminKey(file);
    expect(made.source).toBe('made');
    expect(made.key).toMatch(/^smk_admin_[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`${made.key}\n`);
    expect(localAdminKey(file)).toEqual({ key: made.key, source: 'kept' });
  });

  it('tightens a file others could read', () => {
    const file = join(dir, 'loose');
    writeFileSync(file, 'k'.repeat(40));
    chmodSync(file, 0o644);
    expect(localAdminKey(file).key).toBe('k'.repeat(40));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a file that holds no usable key', () => {
    const file = join(dir, 'short');
    writeFileSync(file, 'short', { mode: 0o600 });
    expect(() => localAdminKey(file)).toThrow(/does not hold an admin key/);
  });
});
