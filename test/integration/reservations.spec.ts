import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, signedCall, startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Reservations in one region (its own warehouses, holds in this process) on the real PostgreSQL.
let region: TestRegion;
const key = (): Record<string, string> => ({ 'idempotency-key': randomUUID() });
const reserve = (body: unknown, headers: Record<string, string> = key()) => call(region, 'POST', '/v1/reservations', { body, headers });
const row = async (warehouse: string, sku: string): Promise<{ onHand: number; reserved: number; available: number }> =>
  (await call<{ onHand: number; reserved: number; available: number }>(region, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`)).body;

interface Reservation {
  id: string;
  status: string;
  expiresAt: string;
  allocations: { sku: string; warehouseId: string; region: string; quantity: number }[];
}

beforeAll(async () => {
  region = await startTestRegion('reserve');
  for (const w of ['nyc-1', 'nyc-2']) await call(region, 'PUT', `/v1/warehouses/${w}`, { body: { region: 'us-east', name: w } });
  const stock: [string, string, number][] = [
    ['nyc-1', 'SKU-R', 3],
    ['nyc-2', 'SKU-R', 5],
    ['nyc-1', 'SKU-R2', 4],
    ['nyc-1', 'SKU-HOT', 10],
    ['nyc-1', 'SKU-TTL', 2],
    ['nyc-1', 'SKU-IDEM', 50],
    ['nyc-1', 'SKU-REL', 5],
  ];
  for (const [w, sku, onHand] of stock) await call(region, 'PUT', `/v1/warehouses/${w}/stock/${sku}`, { body: { onHand } });
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('reservations in one region', () => {
  it('holds a line across warehouses, most available first, and commits it', async () => {
    const made = await reserve({ lines: [{ sku: 'SKU-R', quantity: 6 }], reference: 'cart-1' });
    expect(made.status).toBe(201);
    const r = made.body as unknown as Reservation;
    expect(r).toMatchObject({
      status: 'held',
      allocations: [
        { sku: 'SKU-R', warehouseId: 'nyc-2', region: 'us-east', quantity: 5 },
        { sku: 'SKU-R', warehouseId: 'nyc-1', region: 'us-east', quantity: 1 },
      ],
    });
    expect(r.id).toMatch(/^us-east\.[0-9a-f-]{36}$/);
    expect(Date.parse(r.expiresAt) - Date.now()).toBeGreaterThan(800_000);
    expect(await row('nyc-2', 'SKU-R')).toMatchObject({ onHand: 5, reserved: 5, available: 0 });
    expect((await call(region, 'GET', `/v1/reservations/${r.id}`)).body).toMatchObject({ id: r.id, status: 'held' });

    const committed = await call(region, 'POST', `/v1/reservations/${r.id}/commit`);
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({ status: 'committed' });
    expect(await row('nyc-2', 'SKU-R')).toMatchObject({ onHand: 0, reserved: 0 });
    expect(await row('nyc-1', 'SKU-R')).toMatchObject({ onHand: 2, reserved: 0 });
    expect((await call(region, 'POST', `/v1/reservations/${r.id}/commit`)).status).toBe(200);
    const release = await call(region, 'POST', `/v1/reservations/${r.id}/release`);
    expect(release.status).toBe(409);
    expect(release.body).toMatchObject({ code: 'reservation-conflict', reservationStatus: 'committed' });
    const ledger = await call<{ items: { kind: string; delta: number }[] }>(region, 'GET', '/v1/warehouses/nyc-2/stock/SKU-R/movements');
    expect(ledger.body.items.map((m) => [m.kind, m.delta])).toEqual([
      ['commit', -5],
      ['hold', 0],
      ['set', 5],
    ]);
  });

  it('holds all lines or none, and says per line what was asked and what is available', async () => {
    const refused = await reserve({
      lines: [
        { sku: 'SKU-R2', quantity: 2 },
        { sku: 'SKU-NONE', quantity: 1 },
      ],
    });
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      code: 'insufficient-stock',
      lines: [
        { sku: 'SKU-R2', requested: 2, available: 4 },
        { sku: 'SKU-NONE', requested: 1, available: 0 },
      ],
    });
    expect(await row('nyc-1', 'SKU-R2')).toMatchObject({ onHand: 4, reserved: 0 });
    const unsplit = await reserve({ lines: [{ sku: 'SKU-R2', quantity: 5 }], allowSplit: false });
    expect(unsplit.status).toBe(409);
    const named = await reserve({ lines: [{ sku: 'SKU-R2', quantity: 1, warehouseId: 'nyc-2' }] });
    expect(named.status).toBe(409);
    expect(named.body).toMatchObject({ lines: [{ sku: 'SKU-R2', warehouseId: 'nyc-2', available: 0 }] });
  });

  it('never holds more than is there when many carts race for the last units', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => reserve({ lines: [{ sku: 'SKU-HOT', quantity: 1 }] })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(30);
    expect(await row('nyc-1', 'SKU-HOT')).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
  });

  it('makes one reservation for 20 parallel requests with one key', async () => {
    const headers = key();
    const answers = await Promise.all(Array.from({ length: 20 }, () => reserve({ lines: [{ sku: 'SKU-IDEM', quantity: 3 }] }, headers)));
    expect(answers.map((a) => a.status)).toEqual(new Array(20).fill(201));
    expect(new Set(answers.map((a) => (a.body as unknown as Reservation).id)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(await row('nyc-1', 'SKU-IDEM')).toMatchObject({ reserved: 3 });
    const other = await reserve({ lines: [{ sku: 'SKU-IDEM', quantity: 4 }] }, headers);
    expect(other.status).toBe(422);
  });

  it('releases a reservation once, and expires one on time, exactly once', async () => {
    const made = (await reserve({ lines: [{ sku: 'SKU-REL', quantity: 5 }] })).body as unknown as Reservation;
    const released = await call(region, 'POST', `/v1/reservations/${made.id}/release`);
    expect(released.body).toMatchObject({ status: 'released' });
    expect(await row('nyc-1', 'SKU-REL')).toMatchObject({ onHand: 5, reserved: 0 });
    expect((await call(region, 'POST', `/v1/reservations/${made.id}/release`)).status).toBe(200);
    expect((await call(region, 'POST', `/v1/reservations/${made.id}/commit`)).status).toBe(409);

    const short = (await reserve({ lines: [{ sku: 'SKU-TTL', quantity: 2 }], ttlSeconds: 1 })).body as unknown as Reservation;
    expect(await row('nyc-1', 'SKU-TTL')).toMatchObject({ reserved: 2 });
    await waitFor(
      async () => ((await call<Reservation>(region, 'GET', `/v1/reservations/${short.id}`)).body.status === 'expired' ? true : undefined),
      {
        timeoutMs: 10_000,
        what: 'the reservation to expire',
      },
    );
    await waitFor(async () => ((await row('nyc-1', 'SKU-TTL')).reserved === 0 ? true : undefined), { what: 'the units to be released' });
    const ledger = await call<{ items: { kind: string }[] }>(region, 'GET', '/v1/warehouses/nyc-1/stock/SKU-TTL/movements');
    expect(ledger.body.items.map((m) => m.kind)).toEqual(['release', 'hold', 'set']);
    const late = await call(region, 'POST', `/v1/reservations/${short.id}/commit`);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'reservation-conflict', reservationStatus: 'expired' });
  });

  it('refuses a hold that arrives after its own release (a compensated step)', async () => {
    const id = `us-east.${randomUUID()}`;
    const target = { reservationId: id, warehouseId: 'nyc-1', sku: 'SKU-R2' };
    expect((await signedCall(region, 'POST', `/internal/v1/holds/${id}.1/release`, { body: target })).status).toBe(200);
    const late = await signedCall(region, 'PUT', `/internal/v1/holds/${id}.1`, { body: { ...target, quantity: 1 } });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'hold-conflict' });
    expect(await row('nyc-1', 'SKU-R2')).toMatchObject({ reserved: 0 });
  });
});

describe('bad reservation requests', () => {
  const line = { sku: 'SKU-R2', quantity: 1 };
  it.each([
    ['no Idempotency-Key', { lines: [line] }, {}, 'idempotency-key-required', undefined],
    ['an empty cart', { lines: [] }, key(), 'validation-failed', 'lines'],
    ['101 lines', { lines: Array.from({ length: 101 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })) }, key(), 'validation-failed', 'lines'],
    [
      'a 1000-line cart',
      { lines: Array.from({ length: 1000 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })) },
      key(),
      'validation-failed',
      'lines',
    ],
    ['a zero quantity', { lines: [{ ...line, quantity: 0 }] }, key(), 'validation-failed', 'lines.0.quantity'],
    ['a negative quantity', { lines: [{ ...line, quantity: -2 }] }, key(), 'validation-failed', 'lines.0.quantity'],
    ['a fractional quantity', { lines: [{ ...line, quantity: 1.5 }] }, key(), 'validation-failed', 'lines.0.quantity'],
    ['a huge quantity', { lines: [{ ...line, quantity: 1e12 }] }, key(), 'validation-failed', 'lines.0.quantity'],
    ['a bad SKU', { lines: [{ sku: "x' OR 1=1", quantity: 1 }] }, key(), 'validation-failed', 'lines.0.sku'],
    ['a zero TTL', { lines: [line], ttlSeconds: 0 }, key(), 'validation-failed', 'ttlSeconds'],
    ['an unknown field', { lines: [line], coupon: 'FREE' }, key(), 'validation-failed', 'coupon'],
  ])('refuses %s', async (_, body, headers, code, field) => {
    const answer = await reserve(body, headers as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code });
    if (field) expect((answer.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
  });

  it('answers 404 for reservations that do not exist or have a malformed id', async () => {
    expect((await call(region, 'GET', `/v1/reservations/us-east.${randomUUID()}`)).status).toBe(404);
    expect((await call(region, 'GET', '/v1/reservations/not-an-id')).body).toMatchObject({ code: 'reservation-not-found' });
    expect((await call(region, 'POST', `/v1/reservations/mars-1.${randomUUID()}/commit`)).status).toBe(404);
  });
});
