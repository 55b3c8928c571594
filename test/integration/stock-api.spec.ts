import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// One region in-process against its own databases on the real PostgreSQL.
let region: TestRegion;
const W = 'nyc-1';
const stockUrl = (sku: string, warehouse = W): string => `/v1/warehouses/${warehouse}/stock/${sku}`;
const api = <T = Record<string, unknown>>(...args: Parameters<typeof call> extends [unknown, ...infer R] ? R : never) =>
  call<T>(region, ...args);

beforeAll(async () => {
  region = await startTestRegion('stockapi');
  const registered = await api('PUT', `/v1/warehouses/${W}`, {
    body: { region: 'us-east', name: 'New York 1', latitude: 40.7, longitude: -74 },
  });
  expect(registered.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('warehouses', () => {
  it('registers once (201), then updates (200) and lists', async () => {
    const again = await api('PUT', `/v1/warehouses/${W}`, {
      body: { region: 'us-east', name: 'New York One', latitude: 40.7, longitude: -74 },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: W, region: 'us-east', name: 'New York One', version: 2 });
    const list = await api<{ items: { id: string }[] }>('GET', '/v1/warehouses');
    expect(list.body.items.map((w) => w.id)).toContain(W);
  });

  it('refuses a region outside the cluster and half a position', async () => {
    const unknown = await api('PUT', '/v1/warehouses/x-1', { body: { region: 'mars-1', name: 'x' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'validation-failed' });
    const half = await api('PUT', '/v1/warehouses/x-1', { body: { region: 'us-east', name: 'x', latitude: 1 } });
    expect(half.status).toBe(400);
    expect((await api<{ items: { id: string }[] }>('GET', '/v1/warehouses')).body.items.map((w) => w.id)).not.toContain('x-1');
  });
});

describe('stock writes', () => {
  it('sets a count, adjusts it, and records every change in the ledger', async () => {
    const set = await api('PUT', stockUrl('SKU-A'), { body: { onHand: 100 }, headers: { 'x-actor': 'wms-7' } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      warehouseId: W,
      sku: 'SKU-A',
      region: 'us-east',
      onHand: 100,
      reserved: 0,
      available: 100,
      version: 1,
      servedBy: 'us-east',
    });
    expect(set.headers['stockmesh-served-by']).toBe('us-east');

    const received = await api('POST', `${stockUrl('SKU-A')}/adjustments`, { body: { delta: 20, reason: 'received' } });
    expect(received.status).toBe(201);
    expect(received.body).toMatchObject({
      onHand: 120,
      version: 2,
      movement: { kind: 'adjustment', delta: 20, reason: 'received', onHandAfter: 120 },
    });

    const counted = await api('PUT', stockUrl('SKU-A'), { body: { onHand: 90 } });
    expect(counted.body).toMatchObject({ onHand: 90, version: 3, movement: { kind: 'set', delta: -30, reason: 'cycle-count' } });

    const read = await api('GET', stockUrl('SKU-A'));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ onHand: 90, reserved: 0, available: 90, version: 3 });

    const ledger = await api<{ items: Record<string, unknown>[]; nextBefore: string | null }>('GET', `${stockUrl('SKU-A')}/movements`);
    expect(ledger.body.items.map((m) => [m.kind, m.delta, m.onHandAfter, m.version])).toEqual([
      ['set', -30, 90, 3],
      ['adjustment', 20, 120, 2],
      ['set', 100, 100, 1],
    ]);
    // X-Actor is a header the client chose: not believed (the actor is the authenticated caller).
    expect(ledger.body.items[2]).toMatchObject({ actor: 'anonymous' });
    expect(ledger.body.nextBefore).toBeNull();

    const page = await api<{ items: { version: number }[]; nextBefore: string }>('GET', `${stockUrl('SKU-A')}/movements?limit=2`);
    expect(page.body.items.map((m) => m.version)).toEqual([3, 2]);
    const rest = await api<{ items: { version: number }[] }>(
      'GET',
      `${stockUrl('SKU-A')}/movements?limit=2&before=${page.body.nextBefore}`,
    );
    expect(rest.body.items.map((m) => m.version)).toEqual([1]);
  });

  it('starts a missing row at zero for a positive adjustment', async () => {
    const created = await api('POST', `${stockUrl('SKU-NEW')}/adjustments`, { body: { delta: 3, reason: 'found' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ onHand: 3, version: 1 });
  });

  it('refuses with 409 a change that would break an invariant, and changes nothing', async () => {
    await api('PUT', stockUrl('SKU-B'), { body: { onHand: 5 } });
    const refused = await api('POST', `${stockUrl('SKU-B')}/adjustments`, { body: { delta: -6, reason: 'damaged' } });
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      type: 'https://stockmesh.dev/problems/insufficient-stock',
      code: 'insufficient-stock',
      status: 409,
      onHand: 5,
      available: 5,
    });
    const missing = await api('POST', `${stockUrl('SKU-NEVER')}/adjustments`, { body: { delta: -1, reason: 'lost' } });
    expect(missing.status).toBe(409);
    expect((await api('GET', stockUrl('SKU-NEVER'))).status).toBe(404);

    const over = await api('POST', `${stockUrl('SKU-B')}/adjustments`, { body: { delta: 1_000_000_000, reason: 'received' } });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ code: 'quantity-limit-exceeded' });

    expect((await api('GET', stockUrl('SKU-B'))).body).toMatchObject({ onHand: 5, version: 1 });
    expect((await api<{ items: unknown[] }>('GET', `${stockUrl('SKU-B')}/movements`)).body.items).toHaveLength(1);
  });

  it('answers 404 for an unknown warehouse and for stock never recorded', async () => {
    const unknownWarehouse = await api('POST', `${stockUrl('SKU-A', 'nowhere-9')}/adjustments`, { body: { delta: 1, reason: 'received' } });
    expect(unknownWarehouse.status).toBe(404);
    expect(unknownWarehouse.body).toMatchObject({ code: 'warehouse-not-found' });
    const unknownStock = await api('GET', stockUrl('SKU-NOTHING'));
    expect(unknownStock.status).toBe(404);
    expect(unknownStock.body).toMatchObject({ code: 'stock-not-found' });
  });
});

describe('idempotency', () => {
  it('replays the first answer for the same key and body, and changes nothing', async () => {
    const key = randomUUID();
    const first = await api('POST', `${stockUrl('SKU-I')}/adjustments`, {
      body: { delta: 7, reason: 'received' },
      headers: { 'idempotency-key': key },
    });
    const second = await api('POST', `${stockUrl('SKU-I')}/adjustments`, {
      body: { reason: 'received', delta: 7 },
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body).toEqual(first.body);
    expect((await api('GET', stockUrl('SKU-I'))).body).toMatchObject({ onHand: 7, version: 1 });
  });

  it('refuses the same key with another body (422) and keeps the first change only', async () => {
    const key = randomUUID();
    await api('POST', `${stockUrl('SKU-J')}/adjustments`, { body: { delta: 2, reason: 'received' }, headers: { 'idempotency-key': key } });
    const other = await api('POST', `${stockUrl('SKU-J')}/adjustments`, {
      body: { delta: 3, reason: 'received' },
      headers: { 'idempotency-key': key },
    });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'idempotency-key-reused' });
    expect((await api('GET', stockUrl('SKU-J'))).body).toMatchObject({ onHand: 2 });
  });

  it('makes exactly one change for 20 parallel requests with one key', async () => {
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api('POST', `${stockUrl('SKU-K')}/adjustments`, { body: { delta: 1, reason: 'received' }, headers: { 'idempotency-key': key } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(new Array(20).fill(201));
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(new Set(answers.map((a) => (a.body.movement as { id: string }).id)).size).toBe(1);
    expect((await api('GET', stockUrl('SKU-K'))).body).toMatchObject({ onHand: 1, version: 1 });
  });

  it('stores nothing for a refused request, so the key can be retried', async () => {
    const key = randomUUID();
    const refused = await api('POST', `${stockUrl('SKU-L')}/adjustments`, {
      body: { delta: -1, reason: 'lost' },
      headers: { 'idempotency-key': key },
    });
    expect(refused.status).toBe(409);
    const invalidKey = await api('POST', `${stockUrl('SKU-L')}/adjustments`, {
      body: { delta: 1, reason: 'received' },
      headers: { 'idempotency-key': 'has space' },
    });
    expect(invalidKey.status).toBe(400);
    expect(invalidKey.body).toMatchObject({ code: 'idempotency-key-invalid' });
  });
});

describe('concurrency', () => {
  it('never loses an update under many parallel adjustments of one row', async () => {
    await api('PUT', stockUrl('SKU-HOT'), { body: { onHand: 1000 } });
    const deltas = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? -2 : 3));
    const answers = await Promise.all(
      deltas.map((delta) => api('POST', `${stockUrl('SKU-HOT')}/adjustments`, { body: { delta, reason: 'correction' } })),
    );
    expect(answers.filter((a) => a.status !== 201).map((a) => [a.status, a.body.code, a.body.detail])).toEqual([]);
    const expected = 1000 + deltas.reduce((a, b) => a + b, 0);
    const row = await api('GET', stockUrl('SKU-HOT'));
    expect(row.body).toMatchObject({ onHand: expected, version: 201 });
    // Every version from 1 to 201 appears exactly once in the ledger, and each entry's onHandAfter
    // is the previous entry's plus its delta: the row was changed one writer at a time.
    const ledger = await api<{ items: { version: number; delta: number; onHandAfter: number }[] }>(
      'GET',
      `${stockUrl('SKU-HOT')}/movements?limit=500`,
    );
    const entries = [...ledger.body.items].reverse();
    expect(entries.map((m) => m.version)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    for (let i = 1; i < entries.length; i++) expect(entries[i].onHandAfter).toBe(entries[i - 1].onHandAfter + entries[i].delta);
  });

  it('never goes below zero when parallel removals race for the last units', async () => {
    await api('PUT', stockUrl('SKU-LAST'), { body: { onHand: 10 } });
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => api('POST', `${stockUrl('SKU-LAST')}/adjustments`, { body: { delta: -1, reason: 'damaged' } })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(20);
    expect((await api('GET', stockUrl('SKU-LAST'))).body).toMatchObject({ onHand: 0, available: 0 });
  });
});

describe('availability', () => {
  it('sums the region’s own rows per SKU, in request order, with zeros for SKUs no one stocks', async () => {
    await api('PUT', stockUrl('SKU-AV1'), { body: { onHand: 12 } });
    await api('PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: 'New York One', latitude: 40.7, longitude: -74 } });
    const one = await api<{
      sku: string;
      onHand: number;
      available: number;
      servedBy: string;
      warehouses: { warehouseId: string; appliedAt: string; updatedAt: string }[];
    }>('GET', '/v1/availability/SKU-AV1');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ sku: 'SKU-AV1', onHand: 12, reserved: 0, available: 12, servedBy: 'us-east' });
    expect(one.body.warehouses).toEqual([expect.objectContaining({ warehouseId: W, region: 'us-east', onHand: 12, version: 1 })]);
    expect(one.body.warehouses[0].appliedAt).toBe(one.body.warehouses[0].updatedAt);

    const many = await api<{ items: { sku: string; onHand: number }[] }>('POST', '/v1/availability/query', {
      body: { skus: ['SKU-NOBODY', 'SKU-AV1', 'SKU-A'] },
    });
    expect(many.status).toBe(200);
    expect(many.body.items.map((i) => [i.sku, i.onHand])).toEqual([
      ['SKU-NOBODY', 0],
      ['SKU-AV1', 12],
      ['SKU-A', 90],
    ]);
  });
});
