import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAX_QUANTITY } from '@stockmesh/contracts';
import { HoldService, type HoldView } from '@stockmesh/stock';
import { call, startTestRegion, type Answer, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Safety stock in one region, on the real PostgreSQL: set through the stock write API (alone or
// with a count, validated like the other quantities), shown in every read, kept from ordinary
// holds by the owner's conditional UPDATE and its group-committed decision, however many race,
// and held into only by a reservation whose key has `stock:reserve-safety`.
let region: TestRegion;
const W = 'ss-1';

interface Row {
  onHand: number;
  reserved: number;
  safetyStock: number;
  available: number;
  version: number;
}

const put = (sku: string, body: unknown): Promise<Answer<Row & { movement: { reason: string; safetyStockAfter: number } }>> =>
  call(region, 'PUT', `/v1/warehouses/${W}/stock/${sku}`, { body });
const row = async (sku: string): Promise<Row> => (await call<Row>(region, 'GET', `/v1/warehouses/${W}/stock/${sku}`)).body;

type Settled = { ok: true; view: HoldView } | { ok: false; code: string; available?: number };

async function hold(sku: string, quantity: number, mayUseSafetyStock = false): Promise<Settled> {
  const reservationId = `us-east.${randomUUID()}`;
  try {
    const view = await region.app
      .get(HoldService)
      .place({ holdId: `${reservationId}.1`, reservationId, warehouseId: W, sku, quantity, ttlSeconds: 600, mayUseSafetyStock });
    return { ok: true, view };
  } catch (error) {
    const e = error as { code: string; extensions?: { available?: number } };
    return { ok: false, code: e.code, available: e.extensions?.available };
  }
}

/** A key with these scopes, made through the API as an operator would. */
async function keyWith(...scopes: string[]): Promise<string> {
  const made = await call<{ key: string }>(region, 'POST', '/v1/api-keys', { body: { name: `ss ${scopes.join(' ')}`, scopes } });
  expect(made.status).toBe(201);
  return made.body.key;
}

beforeAll(async () => {
  region = await startTestRegion('safety', { STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '30000' });
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('setting safety stock', () => {
  it('sets it alone or with a count, keeps it through counts and adjustments, and shows it in every read', async () => {
    expect((await put('SKU-S1', { onHand: 10 })).body).toMatchObject({ onHand: 10, safetyStock: 0, available: 10 });
    const alone = await put('SKU-S1', { safetyStock: 4 });
    expect(alone.status).toBe(200);
    expect(alone.body).toMatchObject({ onHand: 10, reserved: 0, safetyStock: 4, available: 6 });
    // The ledger says what the count changed.
    expect(alone.body.movement).toMatchObject({ kind: 'set', delta: 0, reason: 'safety-stock', safetyStockAfter: 4 });
    expect((await put('SKU-S1', { onHand: 12 })).body).toMatchObject({ onHand: 12, safetyStock: 4, available: 8 });
    const adjusted = await call<Row>(region, 'POST', `/v1/warehouses/${W}/stock/SKU-S1/adjustments`, {
      body: { delta: -2, reason: 'damaged' },
    });
    expect(adjusted.body).toMatchObject({ onHand: 10, safetyStock: 4, available: 6 });
    expect((await put('SKU-S1', { onHand: 11, safetyStock: 5 })).body).toMatchObject({ onHand: 11, safetyStock: 5, available: 6 });

    const availability = await call<{ onHand: number; safetyStock: number; available: number; warehouses: Row[] }>(
      region,
      'GET',
      '/v1/availability/SKU-S1',
    );
    expect(availability.body).toMatchObject({ onHand: 11, reserved: 0, safetyStock: 5, available: 6 });
    expect(availability.body.warehouses).toEqual([expect.objectContaining({ warehouseId: W, onHand: 11, safetyStock: 5, available: 6 })]);
    const queried = await call<{ items: { available: number; safetyStock: number }[] }>(region, 'POST', '/v1/availability/query', {
      body: { skus: ['SKU-S1'] },
    });
    expect(queried.body.items[0]).toMatchObject({ safetyStock: 5, available: 6 });
    const listed = await call<{ items: Row[] }>(region, 'GET', `/v1/warehouses/${W}/stock`);
    expect(listed.body.items.find((r) => (r as Row & { sku: string }).sku === 'SKU-S1')).toMatchObject({ safetyStock: 5, available: 6 });
  });

  it('accepts a safety stock above on-hand: nothing shows available, and on-hand may drop below it', async () => {
    expect((await put('SKU-S2', { onHand: 3, safetyStock: 50 })).body).toMatchObject({ onHand: 3, safetyStock: 50, available: 0 });
    expect((await put('SKU-S2', { onHand: 60 })).body).toMatchObject({ onHand: 60, safetyStock: 50, available: 10 });
    expect((await put('SKU-S2', { onHand: 1 })).body).toMatchObject({ onHand: 1, safetyStock: 50, available: 0 });
  });

  it('refuses what is not a quantity, and a body that sets nothing, as 400 problem+json', async () => {
    for (const body of [
      {},
      { safetyStock: -1 },
      { safetyStock: 1.5 },
      { safetyStock: MAX_QUANTITY + 1 },
      { safetyStock: '3' },
      { onHand: null },
    ]) {
      const answer = await put('SKU-S3', body);
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ code: 'validation-failed' });
    }
    // An adjustment moves units; the safety stock is set, never adjusted.
    const adjust = await call(region, 'POST', `/v1/warehouses/${W}/stock/SKU-S3/adjustments`, {
      body: { delta: 1, reason: 'found', safetyStock: 2 },
    });
    expect(adjust.status).toBe(400);
    const batch = await call<{ errors: { field: string }[] }>(region, 'POST', '/v1/stock/batch', {
      body: { rows: [{ warehouseId: W, sku: 'SKU-S3', op: 'adjust', delta: 1, reason: 'found', safetyStock: 2 }] },
    });
    expect(batch.status).toBe(400);
    expect(batch.body.errors.map((e) => e.field)).toEqual(['rows.0.safetyStock']);
    expect((await call(region, 'GET', `/v1/warehouses/${W}/stock/SKU-S3`)).status).toBe(404);
  });

  it('sets it through batch rows, with or without a count', async () => {
    const batch = await call<{ results: { status: number; level: Row }[] }>(region, 'POST', '/v1/stock/batch', {
      body: {
        rows: [
          { warehouseId: W, sku: 'SKU-B1', op: 'set', quantity: 20, safetyStock: 5 },
          { warehouseId: W, sku: 'SKU-B2', op: 'set', safetyStock: 2 },
        ],
      },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r) => r.level)).toEqual([
      expect.objectContaining({ onHand: 20, safetyStock: 5, available: 15 }),
      expect.objectContaining({ onHand: 0, safetyStock: 2, available: 0 }),
    ]);
  });
});

describe('holds and safety stock at the owner', () => {
  it('keeps the safety stock from an ordinary hold; a hold allowed into it may take it', async () => {
    await put('SKU-H1', { onHand: 10, safetyStock: 4 });
    expect(await hold('SKU-H1', 7)).toEqual({ ok: false, code: 'insufficient-stock', available: 6 });
    const first = await hold('SKU-H1', 6);
    expect(first.ok && first.view.stock).toMatchObject({ onHand: 10, reserved: 6, safetyStock: 4, available: 0 });
    expect(await hold('SKU-H1', 1)).toEqual({ ok: false, code: 'insufficient-stock', available: 0 });
    expect(await hold('SKU-H1', 5, true)).toEqual({ ok: false, code: 'insufficient-stock', available: 4 });
    const dipped = await hold('SKU-H1', 4, true);
    expect(dipped.ok && dipped.view.stock).toMatchObject({ reserved: 10, available: 0 });
    expect(await row('SKU-H1')).toMatchObject({ onHand: 10, reserved: 10, safetyStock: 4, available: 0 });
  });

  it('never takes safety stock for ordinary holds, however many race; allowed holds racing with them take the rest', async () => {
    await put('SKU-RACE', { onHand: 100, safetyStock: 30 });
    const ordinary = await Promise.all(Array.from({ length: 300 }, () => hold('SKU-RACE', 1)));
    expect(ordinary.filter((a) => a.ok)).toHaveLength(70);
    expect(new Set(ordinary.filter((a) => !a.ok).map((a) => (a.ok ? '' : `${a.code}:${a.available}`)))).toEqual(
      new Set(['insufficient-stock:0']),
    );
    expect(await row('SKU-RACE')).toMatchObject({ onHand: 100, reserved: 70, available: 0 });

    // Mixed, in shared batches: ordinary holds never get past on-hand - safety stock, allowed ones fill the rest.
    await put('SKU-MIX', { onHand: 100, safetyStock: 30 });
    const mixed = await Promise.all(
      Array.from({ length: 400 }, (_, i) => hold('SKU-MIX', 1, i % 2 === 1).then((a) => ({ a, allowed: i % 2 === 1 }))),
    );
    const heldOrdinary = mixed.filter(({ a, allowed }) => a.ok && !allowed);
    const held = mixed.filter(({ a }) => a.ok);
    expect(held).toHaveLength(100);
    // Each ordinary hold was granted with at most 70 reserved after it: it never ate into the 30.
    for (const { a } of heldOrdinary) expect(a.ok && a.view.stock!.reserved).toBeLessThanOrEqual(70);
    expect(heldOrdinary.length).toBeLessThanOrEqual(70);
    expect(await row('SKU-MIX')).toMatchObject({ onHand: 100, reserved: 100, safetyStock: 30, available: 0 });
  });
});

describe('reservations and safety stock', () => {
  it('refuses an ordinary key the safety stock (409 problem+json) and grants it to a key with stock:reserve-safety', async () => {
    await put('SKU-RSV', { onHand: 10, safetyStock: 8 });
    const storefront = await keyWith('reservations:write');
    const staff = await keyWith('reservations:write', 'stock:reserve-safety');
    const reserve = (key: string, quantity: number): Promise<Answer> =>
      call(region, 'POST', '/v1/reservations', {
        key,
        headers: { 'idempotency-key': randomUUID() },
        body: { lines: [{ sku: 'SKU-RSV', quantity, warehouseId: W }] },
      });

    const refused = await reserve(storefront, 3);
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'insufficient-stock', lines: [{ sku: 'SKU-RSV', requested: 3, available: 2 }] });
    expect((await reserve(storefront, 2)).status).toBe(201);
    expect(await row('SKU-RSV')).toMatchObject({ reserved: 2, available: 0 });

    // Without naming the warehouse too: the staff key's allocation counts the safety stock.
    const staffHeld = await call(region, 'POST', '/v1/reservations', {
      key: staff,
      headers: { 'idempotency-key': randomUUID() },
      body: { lines: [{ sku: 'SKU-RSV', quantity: 8 }] },
    });
    expect(staffHeld.status).toBe(201);
    expect(await row('SKU-RSV')).toMatchObject({ onHand: 10, reserved: 10, safetyStock: 8, available: 0 });
  });

  it('knows the scope: keys can be made with it, and it alone opens no operation', async () => {
    const only = await keyWith('stock:reserve-safety');
    const answer = await call(region, 'POST', '/v1/reservations', {
      key: only,
      headers: { 'idempotency-key': randomUUID() },
      body: { lines: [{ sku: 'SKU-RSV', quantity: 1 }] },
    });
    expect(answer.status).toBe(403);
  });
});
