import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Reservations across three region processes, the real broker and real PostgreSQL.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const HOME: Record<string, string> = { 'us-east': 'nyc-1', 'eu-west': 'fra-1', 'ap-south': 'bom-1' };
const OWNER: Record<string, string> = { 'nyc-1': 'us-east', 'fra-1': 'eu-west', 'bom-1': 'ap-south' };
const at = (id: string): { url: string } => ({ url: t.url(id) });
// 400 sagas at once on two shared cores can take a while each: wait for their answers.
const reserve = (regionId: string, body: unknown, key = randomUUID()) =>
  call<Record<string, unknown>>(at(regionId), 'POST', '/v1/reservations', {
    body,
    headers: { 'idempotency-key': key },
    timeoutMs: 120_000,
  });

/**
 * What a storefront does with a 503 (the region shed load: its pool or a database was busy):
 * it tries again, with the same Idempotency-Key, a few times.
 */
const reserveRetryingBusy = (regionId: string, body: unknown): ReturnType<typeof reserve> =>
  call<Record<string, unknown>>(at(regionId), 'POST', '/v1/reservations', {
    body,
    headers: { 'idempotency-key': randomUUID() },
    timeoutMs: 120_000,
    retryBusy: true,
  });

interface Totals {
  onHand: number;
  reserved: number;
  safetyStock: number;
  available: number;
  warehouses: { warehouseId: string; onHand: number; reserved: number; available: number }[];
}

async function setStock(warehouseId: string, sku: string, onHand: number): Promise<void> {
  const answer = await call(at(OWNER[warehouseId]), 'PUT', `/v1/warehouses/${warehouseId}/stock/${sku}`, { body: { onHand } });
  expect(answer.status).toBe(200);
}

/** Waits until every region's global view of the SKU matches `expected`, and returns the views. */
async function everyRegionSees(
  sku: string,
  expected: Partial<Totals>,
  timeoutMs = 60_000,
  regions: readonly string[] = REGIONS,
): Promise<Totals[]> {
  let last: Totals[] = [];
  await waitFor(
    async () => {
      last = await Promise.all(regions.map(async (r) => (await call<Totals>(at(r), 'GET', `/v1/availability/${sku}`)).body));
      return last.every((v) => Object.entries(expected).every(([k, value]) => v[k as keyof Totals] === value)) ? true : undefined;
    },
    {
      timeoutMs,
      intervalMs: 200,
      what: `every region to see ${sku} as ${JSON.stringify(expected)}`,
      describe: async () => JSON.stringify(last),
    },
  );
  return last;
}

beforeAll(async () => {
  t = await startTestCluster('resv', { STOCKMESH_HEARTBEAT_MS: '500' });
  for (const region of REGIONS) {
    expect((await call(at(region), 'PUT', `/v1/warehouses/${HOME[region]}`, { body: { region, name: HOME[region] } })).status).toBe(201);
  }
  for (const region of REGIONS) {
    await waitFor(
      async () => ((await call<{ items: unknown[] }>(at(region), 'GET', '/v1/warehouses')).body.items.length === 3 ? true : undefined),
      {
        what: `${region} to know every warehouse`,
      },
    );
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('reservations across regions', () => {
  it('never oversells: 400 carts racing for 50 units spread over three regions get exactly 50', async () => {
    await setStock('nyc-1', 'SKU-RACE', 20);
    await setStock('fra-1', 'SKU-RACE', 15);
    await setStock('bom-1', 'SKU-RACE', 15);
    await everyRegionSees('SKU-RACE', { available: 50 });

    const answers = await Promise.all(
      Array.from({ length: 400 }, (_, i) => reserveRetryingBusy(REGIONS[i % 3], { lines: [{ sku: 'SKU-RACE', quantity: 1 }] })),
    );
    const statuses = answers.map((a) => a.status);
    const won = statuses.filter((s) => s === 201).length;
    // A cart is held or refused cleanly: sold out (409), or still shed as busy after five tries (503).
    expect(statuses.filter((s) => s !== 201 && s !== 409 && s !== 503)).toEqual([]);
    expect(won).toBeLessThanOrEqual(50);
    // Exactly the units of the carts that were answered "held" are reserved, in every region: no
    // hold survives a refused cart (on a loaded machine some sagas time out and release theirs).
    await everyRegionSees('SKU-RACE', { onHand: 50, reserved: won, available: 50 - won });
    // And no unit is lost for sale: one cart at a time takes every unit left, then is refused.
    // (Each region's view is waited for after every cart, so no cart is refused on a stale view.)
    let later = 0;
    while ((await reserveRetryingBusy(REGIONS[later % 3], { lines: [{ sku: 'SKU-RACE', quantity: 1 }] })).status === 201) {
      later++;
      await everyRegionSees('SKU-RACE', { reserved: won + later });
    }
    expect(won + later).toBe(50);

    const views = await everyRegionSees('SKU-RACE', { onHand: 50, reserved: 50, available: 0 });
    for (const view of views) for (const w of view.warehouses) expect(w.available).toBe(0);
  }, 180_000);

  it('holds exactly 500 units when 2,000 one-unit carts race for them over three regions, however the owners batch the holds', async () => {
    await setStock('nyc-1', 'SKU-RUSH', 200);
    await setStock('fra-1', 'SKU-RUSH', 150);
    await setStock('bom-1', 'SKU-RUSH', 150);
    await everyRegionSees('SKU-RUSH', { available: 500 });
    const wave = async (carts: number): Promise<number> => {
      const answers = await Promise.all(
        Array.from({ length: carts }, (_, i) => reserveRetryingBusy(REGIONS[i % 3], { lines: [{ sku: 'SKU-RUSH', quantity: 1 }] })),
      );
      expect(answers.map((a) => a.status).filter((s) => s !== 201 && s !== 409 && s !== 503)).toEqual([]);
      return answers.filter((a) => a.status === 201).length;
    };
    // The rush: owners group-commit the holds that reach them together (docs/reservations.md).
    let won = await wave(2_000);
    expect(won).toBeLessThanOrEqual(500);
    await everyRegionSees('SKU-RUSH', { onHand: 500, reserved: won, available: 500 - won });
    // A cart can be refused on a view older than the last holds, or shed as busy: later waves, each
    // on views every region has caught up with, sell the rest, and never more.
    while (won < 500) {
      const more = await wave(500 - won + 30);
      expect(more).toBeGreaterThan(0);
      won += more;
      expect(won).toBeLessThanOrEqual(500);
      await everyRegionSees('SKU-RUSH', { reserved: won });
    }
    const views = await everyRegionSees('SKU-RUSH', { onHand: 500, reserved: 500, available: 0 });
    for (const view of views) for (const w of view.warehouses) expect(w.available).toBe(0);
  }, 300_000);

  it('holds nothing anywhere when the last line of a cart cannot be served', async () => {
    await setStock('nyc-1', 'SKU-ML-A', 5);
    await setStock('fra-1', 'SKU-ML-B', 5);
    await setStock('bom-1', 'SKU-ML-C', 2);
    await everyRegionSees('SKU-ML-C', { available: 2 });
    const refused = await reserve('us-east', {
      lines: [
        { sku: 'SKU-ML-A', quantity: 1 },
        { sku: 'SKU-ML-B', quantity: 2 },
        { sku: 'SKU-ML-C', quantity: 3 },
      ],
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'insufficient-stock',
      lines: [{ sku: 'SKU-ML-A' }, { sku: 'SKU-ML-B' }, { sku: 'SKU-ML-C', requested: 3, available: 2 }],
    });
    for (const sku of ['SKU-ML-A', 'SKU-ML-B', 'SKU-ML-C']) await everyRegionSees(sku, { reserved: 0 });
  }, 120_000);

  it('commits a cart held in another region, from any region', async () => {
    await setStock('fra-1', 'SKU-X', 4);
    await everyRegionSees('SKU-X', { available: 4 });
    const made = await reserve('us-east', { lines: [{ sku: 'SKU-X', quantity: 3 }] });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ status: 'held', allocations: [{ warehouseId: 'fra-1', region: 'eu-west', quantity: 3 }] });
    const id = made.body.id as string;
    const committed = await call(at('ap-south'), 'POST', `/v1/reservations/${id}/commit`);
    expect(committed.status).toBe(200);
    expect(committed.headers['stockmesh-served-by']).toBe('us-east');
    expect(committed.body).toMatchObject({ status: 'committed' });
    await everyRegionSees('SKU-X', { onHand: 1, reserved: 0, available: 1 });
  }, 60_000);

  it('releases an expired reservation on time, once, and every region sees the units again', async () => {
    await setStock('bom-1', 'SKU-TTL', 3);
    await everyRegionSees('SKU-TTL', { available: 3 });
    const made = await reserve('eu-west', { lines: [{ sku: 'SKU-TTL', quantity: 3 }], ttlSeconds: 2 });
    expect(made.status).toBe(201);
    await everyRegionSees('SKU-TTL', { reserved: 3 });
    await everyRegionSees('SKU-TTL', { onHand: 3, reserved: 0, available: 3 }, 20_000);
    const id = made.body.id as string;
    expect((await call(at('us-east'), 'GET', `/v1/reservations/${id}`)).body).toMatchObject({ status: 'expired' });
    const ledger = await call<{ items: { kind: string }[] }>(at('ap-south'), 'GET', '/v1/warehouses/bom-1/stock/SKU-TTL/movements');
    expect(ledger.body.items.filter((m) => m.kind === 'release')).toHaveLength(1);
  }, 60_000);

  it('keeps an owner’s safety stock from storefront keys in every region, and lets a key with stock:reserve-safety hold into it', async () => {
    await setStock('fra-1', 'SKU-SAFE', 10);
    // Set at us-east, applied by the owner eu-west, seen everywhere once replicated.
    const set = await call(at('us-east'), 'PUT', '/v1/warehouses/fra-1/stock/SKU-SAFE', { body: { safetyStock: 6 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ region: 'eu-west', onHand: 10, safetyStock: 6, available: 4 });
    await everyRegionSees('SKU-SAFE', { onHand: 10, reserved: 0, safetyStock: 6, available: 4 });

    const keyWith = async (...scopes: string[]): Promise<string> => {
      const made = await call<{ key: string }>(at('us-east'), 'POST', '/v1/api-keys', { body: { name: scopes.join(' '), scopes } });
      expect(made.status).toBe(201);
      return made.body.key;
    };
    const storefront = await keyWith('reservations:write');
    const staff = await keyWith('reservations:write', 'stock:reserve-safety');
    // us-east coordinates; the owner eu-west decides each hold on its signed call.
    const reserveAs = (key: string, body: unknown): ReturnType<typeof reserve> =>
      call<Record<string, unknown>>(at('us-east'), 'POST', '/v1/reservations', {
        key,
        body,
        headers: { 'idempotency-key': randomUUID() },
        timeoutMs: 30_000,
      });
    const line = { sku: 'SKU-SAFE', quantity: 5, warehouseId: 'fra-1' };

    const refused = await reserveAs(storefront, { lines: [line] });
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'insufficient-stock', lines: [{ sku: 'SKU-SAFE', requested: 5, available: 4 }] });
    // A client cannot grant itself the capability: the public API has no such field.
    expect((await reserveAs(storefront, { lines: [line], mayUseSafetyStock: true })).status).toBe(400);

    const held = await reserveAs(staff, { lines: [line] });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({ status: 'held', allocations: [{ warehouseId: 'fra-1', region: 'eu-west', quantity: 5 }] });
    await everyRegionSees('SKU-SAFE', { onHand: 10, reserved: 5, safetyStock: 6, available: 0 });
  }, 60_000);

  it('falls back to another region’s warehouse when the first choice is down, and fails cleanly when none is left', async () => {
    await setStock('fra-1', 'SKU-DOWN', 3);
    await setStock('bom-1', 'SKU-DOWN', 3);
    await setStock('fra-1', 'SKU-ONLY-EU', 3);
    await everyRegionSees('SKU-DOWN', { available: 6 });
    await everyRegionSees('SKU-ONLY-EU', { available: 3 });
    await t.cluster.stopRegion('eu-west');
    try {
      const fallback = await reserve('us-east', { lines: [{ sku: 'SKU-DOWN', quantity: 2 }] });
      expect(fallback.status).toBe(201);
      expect(fallback.body).toMatchObject({ allocations: [{ warehouseId: 'bom-1', region: 'ap-south', quantity: 2 }] });
      const none = await reserve('us-east', { lines: [{ sku: 'SKU-ONLY-EU', quantity: 1 }] });
      expect(none.status).toBe(409);
    } finally {
      await t.cluster.startRegion('eu-west');
    }
    // Whatever the down region may have received is released: nothing stays held there.
    await everyRegionSees('SKU-ONLY-EU', { reserved: 0, available: 3 });
    await everyRegionSees('SKU-DOWN', { reserved: 2, available: 4 });
  }, 120_000);
});
