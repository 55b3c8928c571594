import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// The scope of an Idempotency-Key on the real HTTP stack and PostgreSQL: the resource as the
// router decoded it, not the bytes of the path.
let region: TestRegion;

beforeAll(async () => {
  region = await startTestRegion('idemscope');
  expect((await call(region, 'PUT', '/v1/warehouses/fra-1', { body: { region: 'us-east', name: 'Frankfurt 1' } })).status).toBe(201);
  expect((await call(region, 'PUT', '/v1/warehouses/fra-1/stock/SKU', { body: { onHand: 10 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('idempotency scope', () => {
  it('applies a key once whichever spelling of the path carries it', async () => {
    const key = randomUUID();
    const adjust = (path: string) =>
      call<{ onHand: number }>(region, 'POST', path, { body: { delta: 5, reason: 'received' }, headers: { 'idempotency-key': key } });
    const first = await adjust('/v1/warehouses/fra%2D1/stock/SKU/adjustments');
    expect(first.status).toBe(201);
    const second = await adjust('/v1/warehouses/fra-1/stock/SKU/adjustments');
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.onHand).toBe(first.body.onHand);
    const row = await call<{ onHand: number }>(region, 'GET', '/v1/warehouses/fra-1/stock/SKU');
    expect(row.body.onHand).toBe(15);
  });

  it('does not show one caller’s key to others in the ledger', async () => {
    const key = randomUUID();
    const made = await call<{ movement: { idempotencyKey: string } }>(region, 'POST', '/v1/warehouses/fra-1/stock/SKU/adjustments', {
      body: { delta: 1, reason: 'received' },
      headers: { 'idempotency-key': key },
    });
    // The answer goes to the caller who sent the key; the ledger is read by anyone.
    expect(made.body.movement.idempotencyKey).toBe(key);
    const ledger = await call<{ items: Record<string, unknown>[] }>(region, 'GET', '/v1/warehouses/fra-1/stock/SKU/movements');
    expect(ledger.body.items.length).toBeGreaterThan(0);
    for (const item of ledger.body.items) expect(item).not.toHaveProperty('idempotencyKey');
  });
});
