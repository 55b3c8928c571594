import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReservationSweeper } from '@stockmesh/reservations';
import { call, ManualClock, seedReplicaRow, StandInRegion, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// POST /v1/reservations/{id}/extend in one region (us-east) on the real PostgreSQL, on a clock the
// test moves, with a stand-in eu-west owner whose answers to renewals the test chooses.

const MAX_LIFETIME_SECONDS = 7_200;
const W = 'ext-1';

/** eu-west's owner: places every hold; renews as `renewal` says. */
let renewal: { status: number; body: unknown } = { status: 200, body: {} };
const renewals: string[] = [];
const owner = new StandInRegion((method, path) => {
  if (method === 'PUT') return { status: 201, body: {} };
  if (path.endsWith('/renew')) {
    renewals.push(path);
    return renewal;
  }
  return { status: 200, body: {} };
});
const clock = new ManualClock();
let region: TestRegion;

interface Reservation {
  id: string;
  status: string;
  expiresAt: string;
  createdAt: string;
}

const reserve = async (lines: unknown[], ttlSeconds = 60): Promise<Reservation> => {
  const made = await call<Reservation>(region, 'POST', '/v1/reservations', {
    body: { lines, ttlSeconds },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(made.status).toBe(201);
  return made.body;
};
const extend = (id: string, body: unknown, key?: string | null) =>
  call<Reservation & { code?: string; reservationStatus?: string }>(region, 'POST', `/v1/reservations/${id}/extend`, {
    body,
    ...(key === undefined ? {} : { key }),
  });
const holdExpiry = async (reservationId: string): Promise<number> => {
  const databases = region.app.get(ShardDatabases);
  const rows = await Promise.all(
    databases
      .all()
      .map((db) =>
        databases.read(db, (tx) =>
          tx.query<{ expires_at: Date }>(`SELECT expires_at FROM holds WHERE reservation_id = $1`, [reservationId]),
        ),
      ),
  );
  return rows.flat()[0]!.expires_at.getTime();
};

beforeAll(async () => {
  region = await startTestRegion(
    'resvextend',
    { ...(await owner.listen()), STOCKMESH_RESERVATION_MAX_LIFETIME_SECONDS: String(MAX_LIFETIME_SECONDS) },
    { clock },
  );
  await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } });
  await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-EXT`, { body: { onHand: 100 } });
  // eu-west's stock, as this region's replica shows it.
  await seedReplicaRow(region, { warehouseId: 'ext-fra-1', sku: 'SKU-EXT-FAR', region: 'eu-west', onHand: 100 });
}, 60_000);

afterAll(async () => {
  await region?.close();
  await owner.close();
});

describe('extending a held reservation', () => {
  it('moves the reservation and its hold at the owner, never shortens it, and keeps it past its first expiry', async () => {
    const made = await reserve([{ sku: 'SKU-EXT', quantity: 2 }], 60);
    const extended = await extend(made.id, { ttlSeconds: 3_600 });
    expect(extended.status).toBe(200);
    expect(extended.body).toMatchObject({ id: made.id, status: 'held' });
    const until = clock.now() + 3_600_000;
    expect(Date.parse(extended.body.expiresAt)).toBe(until);
    expect(await holdExpiry(made.id)).toBeGreaterThanOrEqual(until);

    // Asking for less changes nothing; asking again is harmless.
    const shorter = await extend(made.id, { ttlSeconds: 10 });
    expect(shorter.status).toBe(200);
    expect(Date.parse(shorter.body.expiresAt)).toBe(until);
    expect((await call<Reservation>(region, 'GET', `/v1/reservations/${made.id}`)).body.expiresAt).toBe(extended.body.expiresAt);

    // Past its first expiry, the sweeper leaves it held, and it still commits.
    clock.advance(120_000);
    await region.app.get(ReservationSweeper).sweep();
    expect((await call<Reservation>(region, 'GET', `/v1/reservations/${made.id}`)).body.status).toBe('held');
    expect((await call<Reservation>(region, 'POST', `/v1/reservations/${made.id}/commit`)).body.status).toBe('committed');
  });

  it('never extends past the maximum lifetime after it was made', async () => {
    const made = await reserve([{ sku: 'SKU-EXT', quantity: 1 }], 60);
    const capped = await extend(made.id, { ttlSeconds: 86_400 });
    expect(capped.status).toBe(200);
    expect(Date.parse(capped.body.expiresAt)).toBe(Date.parse(capped.body.createdAt) + MAX_LIFETIME_SECONDS * 1000);
  });

  it('refuses an expired, released or committed reservation (409), and bad input (400) or a key without the scope (403)', async () => {
    const expiring = await reserve([{ sku: 'SKU-EXT', quantity: 1 }], 60);
    clock.advance(61_000);
    const late = await extend(expiring.id, { ttlSeconds: 600 });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'reservation-conflict', reservationStatus: 'expired' });

    const released = await reserve([{ sku: 'SKU-EXT', quantity: 1 }]);
    await call(region, 'POST', `/v1/reservations/${released.id}/release`);
    expect((await extend(released.id, { ttlSeconds: 600 })).body).toMatchObject({
      code: 'reservation-conflict',
      reservationStatus: 'released',
    });

    const committed = await reserve([{ sku: 'SKU-EXT', quantity: 1 }]);
    await call(region, 'POST', `/v1/reservations/${committed.id}/commit`);
    expect((await extend(committed.id, { ttlSeconds: 600 })).body).toMatchObject({
      code: 'reservation-conflict',
      reservationStatus: 'committed',
    });

    const held = await reserve([{ sku: 'SKU-EXT', quantity: 1 }]);
    for (const body of [{}, { ttlSeconds: 0 }, { ttlSeconds: 86_401 }, { ttlSeconds: '600' }, { ttlSeconds: 600, extra: true }]) {
      const refused = await extend(held.id, body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'validation-failed' });
    }
    expect((await extend(`us-east.${randomUUID()}`, { ttlSeconds: 600 })).status).toBe(404);
    const reader = await call<{ key: string }>(region, 'POST', '/v1/api-keys', { body: { name: 'reader', scopes: ['stock:read'] } });
    const forbidden = await extend(held.id, { ttlSeconds: 600 }, reader.body.key);
    expect(forbidden.status).toBe(403);
    expect((await extend(held.id, { ttlSeconds: 600 }, null)).status).toBe(401);
  });

  it('leaves the expiry as it was when an owner does not renew (503), and says so when an owner lost its hold (409)', async () => {
    const made = await reserve(
      [
        { sku: 'SKU-EXT', quantity: 1 },
        { sku: 'SKU-EXT-FAR', quantity: 1 },
      ],
      600,
    );
    renewal = { status: 503, body: { code: 'not-ready' } };
    const silent = await extend(made.id, { ttlSeconds: 3_600 });
    expect(silent.status).toBe(503);
    expect(silent.body).toMatchObject({ code: 'region-unavailable' });
    expect(renewals.some((path) => path.includes(made.id))).toBe(true);
    expect((await call<Reservation>(region, 'GET', `/v1/reservations/${made.id}`)).body.expiresAt).toBe(made.expiresAt);

    renewal = { status: 409, body: { code: 'hold-conflict' } };
    const lost = await extend(made.id, { ttlSeconds: 3_600 });
    expect(lost.status).toBe(409);
    expect(lost.body).toMatchObject({ code: 'reservation-hold-lost' });
    expect((await call<Reservation>(region, 'GET', `/v1/reservations/${made.id}`)).body.expiresAt).toBe(made.expiresAt);

    renewal = { status: 200, body: {} };
    const extended = await extend(made.id, { ttlSeconds: 3_600 });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.expiresAt)).toBe(clock.now() + 3_600_000);
  });
});
