import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Clock } from '@stockmesh/config';
import { ShardDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { HoldExpirySweeper, HoldService } from '@stockmesh/stock';
import { call, signedCall, startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// The owner's side of holds on the real PostgreSQL: races between its own steps, bounded lock
// waits, and what it does on its own when no coordinator comes back.
let region: TestRegion;
/** A region whose hold steps give up waiting for a lock after 200 ms. */
let hurried: TestRegion;

const reservationId = (): string => `us-east.${randomUUID()}`;
const row = async (warehouse: string, sku: string, at = region): Promise<{ onHand: number; reserved: number; available: number }> =>
  (await call<{ onHand: number; reserved: number; available: number }>(at, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`)).body;

interface HoldAnswer {
  holdId: string;
  status: string;
  expiresAt?: string;
  code?: string;
}

/** The owner's internal hold API, as a coordinating region calls it (signed, on its internal listener). */
const holdApi = (at: TestRegion, holdId: string, step: '' | 'commit' | 'release' | 'renew', body: object) =>
  signedCall<HoldAnswer>(at, step === '' ? 'PUT' : 'POST', `/internal/v1/holds/${holdId}${step ? `/${step}` : ''}`, { body });

/** A clock the test moves by hand. */
class TestClock implements Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
}

/** A sweeper of region's holds that reads the time from `clock` (the region's own one reads the system clock). */
const sweeperAt = (clock: Clock): HoldExpirySweeper =>
  new HoldExpirySweeper(region.config, region.app.get(ShardDatabases), region.app.get(HoldService), clock);

/** A connection of its own to the database hosting `sku`'s shard, outside the region's pools. */
async function connectionFor(sku: string, at = region): Promise<pg.Client> {
  const db = at.app.get(ShardDatabases).databaseFor(shardOf(sku, at.config.cluster.shardCount));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return client;
}

/** Resolves once some backend waits on a lock while running a statement that starts with `statement`. */
function blockedOn(observer: pg.Client, statement: string): Promise<true> {
  return waitFor(
    async () => {
      const { rows } = await observer.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND state = 'active' AND ltrim(query) LIKE $1`,
        [`${statement}%`],
      );
      return rows[0].n > 0 ? true : undefined;
    },
    { intervalMs: 10, what: `a statement ${statement}... waiting on a lock` },
  );
}

async function holdStatus(client: pg.Client, holdId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ status: string }>(`SELECT status FROM holds WHERE id = $1`, [holdId]);
  return rows[0]?.status;
}

beforeAll(async () => {
  // A long lock timeout where the tests hold a row lock on purpose while they look at the waiters.
  [region, hurried] = await Promise.all([
    startTestRegion('holds', { STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '30000' }),
    startTestRegion('holdsbusy', { STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '200' }),
  ]);
  for (const at of [region, hurried]) {
    await call(at, 'PUT', '/v1/warehouses/own-1', { body: { region: 'us-east', name: 'own-1' } });
    for (const sku of ['SKU-RACE', 'SKU-ORPHAN', 'SKU-RENEW', 'SKU-SKIP', 'SKU-BUSY'])
      await call(at, 'PUT', `/v1/warehouses/own-1/stock/${sku}`, { body: { onHand: 10 } });
  }
}, 90_000);

afterAll(async () => {
  await Promise.all([region?.close(), hurried?.close()]);
});

describe('holds at the owner', () => {
  it('releases a hold whose place was still in flight when the release came (no hold stays held)', async () => {
    const holds = region.app.get(HoldService);
    const rid = reservationId();
    const holdId = `${rid}.1`;
    const target = { reservationId: rid, warehouseId: 'own-1', sku: 'SKU-RACE' };
    const blocker = await connectionFor('SKU-RACE');
    const observer = await connectionFor('SKU-RACE');
    try {
      // Another writer holds the stock row: the place inserts its hold row, then waits for the row.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM stock WHERE warehouse_id = 'own-1' AND sku = 'SKU-RACE' FOR UPDATE`);
      const placing = holds.place({ ...target, holdId, quantity: 3, ttlSeconds: 900 });
      // One statement inserts the hold row and then reserves (StockRepository.insertHoldAndReserve).
      await blockedOn(observer, 'WITH hold AS');
      // The coordinator gave up on the place and compensates it with a release, which cannot
      // see the uncommitted hold row and so ends up waiting on it.
      const releasing = holds.release(holdId, target);
      await blockedOn(observer, 'INSERT INTO holds');
      await blocker.query('COMMIT');

      await expect(placing).resolves.toMatchObject({ holdId, status: 'held' });
      await expect(releasing).resolves.toMatchObject({ holdId, status: 'released' });
      expect(await holdStatus(observer, holdId)).toBe('released');
      expect(await row('own-1', 'SKU-RACE')).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    } finally {
      await blocker.end();
      await observer.end();
    }
  });

  it('releases an orphan hold on its own once its expiry and the grace period have passed', async () => {
    const rid = reservationId();
    const holdId = `${rid}.1`;
    const target = { reservationId: rid, warehouseId: 'own-1', sku: 'SKU-ORPHAN' };
    // Placed by a coordinator that is never heard of again.
    const placed = await holdApi(region, holdId, '', { ...target, quantity: 4, ttlSeconds: 60 });
    expect(placed.status).toBe(201);
    const expiresAt = Date.parse(placed.body.expiresAt ?? '');
    expect(expiresAt - Date.now()).toBeGreaterThan(50_000);
    expect(await row('own-1', 'SKU-ORPHAN')).toMatchObject({ reserved: 4, available: 6 });

    const grace = region.config.holds.expiryGraceMs;
    const clock = new TestClock(expiresAt + grace - 1);
    expect(await sweeperAt(clock).sweep()).not.toContain(holdId);
    expect(await row('own-1', 'SKU-ORPHAN')).toMatchObject({ reserved: 4 });

    clock.at = expiresAt + grace + 1;
    expect(await sweeperAt(clock).sweep()).toContain(holdId);
    expect(await row('own-1', 'SKU-ORPHAN')).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    const ledger = await call<{ items: { kind: string; delta: number; actor: string }[] }>(
      region,
      'GET',
      '/v1/warehouses/own-1/stock/SKU-ORPHAN/movements',
    );
    expect(ledger.body.items[0]).toMatchObject({ kind: 'release', delta: 0, actor: `hold-expiry:${rid}` });
    const db = await connectionFor('SKU-ORPHAN');
    try {
      const { rows } = await db.query<{ value: string; headers: Record<string, string> }>(
        `SELECT value, headers FROM outbox WHERE key = 'SKU-ORPHAN' ORDER BY seq DESC LIMIT 1`,
      );
      expect(rows[0].headers).toMatchObject({ ce_type: 'io.stockmesh.stock.changed.v1' });
      expect(JSON.parse(rows[0].value)).toMatchObject({
        warehouseId: 'own-1',
        sku: 'SKU-ORPHAN',
        reserved: 0,
        cause: { kind: 'release', actor: `hold-expiry:${rid}` },
      });
    } finally {
      await db.end();
    }
    // A coordinator that comes back late: its release is answered as done, its commit refused,
    // and the hold cannot be placed again.
    expect((await holdApi(region, holdId, 'release', target)).body).toMatchObject({ status: 'released' });
    expect((await holdApi(region, holdId, 'commit', target)).body).toMatchObject({ code: 'hold-conflict' });
    expect((await holdApi(region, holdId, '', { ...target, quantity: 4, ttlSeconds: 60 })).body).toMatchObject({ code: 'hold-conflict' });
    expect(await row('own-1', 'SKU-ORPHAN')).toMatchObject({ reserved: 0 });
  });

  it('keeps a renewed hold past its first expiry; renewing a finished hold says what became of it', async () => {
    const rid = reservationId();
    const target = { reservationId: rid, warehouseId: 'own-1', sku: 'SKU-RENEW' };
    const placed = await holdApi(region, `${rid}.1`, '', { ...target, quantity: 2, ttlSeconds: 60 });
    const firstExpiry = Date.parse(placed.body.expiresAt ?? '');
    const renewed = await holdApi(region, `${rid}.1`, 'renew', { ...target, ttlSeconds: 3_600 });
    expect(renewed.status).toBe(200);
    const renewedExpiry = Date.parse(renewed.body.expiresAt ?? '');
    expect(renewedExpiry - firstExpiry).toBeGreaterThan(3_000_000);
    // A renewal never shortens a hold.
    expect((await holdApi(region, `${rid}.1`, 'renew', { ...target, ttlSeconds: 1 })).body.expiresAt).toBe(renewed.body.expiresAt);

    const clock = new TestClock(firstExpiry + region.config.holds.expiryGraceMs + 1);
    expect(await sweeperAt(clock).sweep()).not.toContain(`${rid}.1`);
    expect(await row('own-1', 'SKU-RENEW')).toMatchObject({ reserved: 2 });

    expect((await holdApi(region, `${rid}.1`, 'commit', target)).status).toBe(200);
    expect((await holdApi(region, `${rid}.1`, 'renew', { ...target, ttlSeconds: 60 })).body).toMatchObject({ status: 'committed' });
    await holdApi(region, `${rid}.2`, 'release', target);
    const released = await holdApi(region, `${rid}.2`, 'renew', { ...target, ttlSeconds: 60 });
    expect(released).toMatchObject({ status: 409, body: { code: 'hold-conflict', holdStatus: 'released' } });
    expect((await holdApi(region, `${rid}.3`, 'renew', { ...target, ttlSeconds: 60 })).body).toMatchObject({ code: 'hold-not-found' });
    expect((await holdApi(region, `${rid}.1`, 'renew', { ...target, ttlSeconds: 0 })).body).toMatchObject({ code: 'validation-failed' });
  });

  it('leaves a hold another sweeper has locked to that one, so several instances share the work', async () => {
    const rid = reservationId();
    const target = { reservationId: rid, warehouseId: 'own-1', sku: 'SKU-SKIP' };
    let latest = 0;
    for (const n of [1, 2]) {
      const placed = await holdApi(region, `${rid}.${n}`, '', { ...target, quantity: 1, ttlSeconds: 120 });
      latest = Math.max(latest, Date.parse(placed.body.expiresAt ?? ''));
    }
    const clock = new TestClock(latest + region.config.holds.expiryGraceMs + 1);
    const other = await connectionFor('SKU-SKIP');
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM holds WHERE id = $1 FOR UPDATE`, [`${rid}.1`]);
      const first = await sweeperAt(clock).sweep();
      expect(first).toContain(`${rid}.2`);
      expect(first).not.toContain(`${rid}.1`);
      await other.query('COMMIT');
      expect(await sweeperAt(clock).sweep()).toContain(`${rid}.1`);
    } finally {
      await other.end();
    }
    expect(await row('own-1', 'SKU-SKIP')).toMatchObject({ reserved: 0, available: 10 });
  });

  it('answers a place that waits too long for the row 503 busy, holding nothing, and the release then sticks', async () => {
    const rid = reservationId();
    const holdId = `${rid}.1`;
    const target = { reservationId: rid, warehouseId: 'own-1', sku: 'SKU-BUSY' };
    const blocker = await connectionFor('SKU-BUSY', hurried);
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM stock WHERE warehouse_id = 'own-1' AND sku = 'SKU-BUSY' FOR UPDATE`);
      const placed = await holdApi(hurried, holdId, '', { ...target, quantity: 3, ttlSeconds: 60 });
      expect(placed.status).toBe(503);
      expect(placed.headers['retry-after']).toBe('1');
      expect(placed.body).toMatchObject({ code: 'busy' });
      expect(await holdStatus(blocker, holdId)).toBeUndefined();
      // The coordinator counts it as no answer and compensates; the release needs no stock lock.
      expect((await holdApi(hurried, holdId, 'release', target)).body).toMatchObject({ status: 'released' });
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
    expect((await holdApi(hurried, holdId, '', { ...target, quantity: 3, ttlSeconds: 60 })).body).toMatchObject({ code: 'hold-conflict' });
    expect(await row('own-1', 'SKU-BUSY', hurried)).toMatchObject({ reserved: 0, available: 10 });
  });

  it('keeps a hold placed without a ttl (an older coordinator) as long as a reservation can live', async () => {
    const rid = reservationId();
    const placed = await holdApi(region, `${rid}.1`, '', { reservationId: rid, warehouseId: 'own-1', sku: 'SKU-RACE', quantity: 1 });
    expect(placed.status).toBe(201);
    expect(Date.parse(placed.body.expiresAt ?? '') - Date.now()).toBeGreaterThan(86_000_000);
    const bad = await holdApi(region, `${rid}.2`, '', {
      reservationId: rid,
      warehouseId: 'own-1',
      sku: 'SKU-RACE',
      quantity: 1,
      ttlSeconds: 0,
    });
    expect(bad).toMatchObject({ status: 400, body: { code: 'validation-failed' } });
  });
});
