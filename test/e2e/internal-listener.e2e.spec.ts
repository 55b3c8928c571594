import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HEADERS } from '@stockmesh/contracts';
import { encodeCaller } from '@stockmesh/http';
import { call, signedCall, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Region-to-region trust on the three-region local cluster (real processes, broker, PostgreSQL):
// holds and forwarded writes travel over the signed internal listeners; clients cannot reach them.
let t: TestCluster;
const US = 'us-east';
const EU = 'eu-west';
const AP = 'ap-south';
const W = 'fra-7';
const at = (id: string): { url: string } => ({ url: t.url(id) });

interface Movement {
  kind: string;
  actor: string;
}

beforeAll(async () => {
  t = await startTestCluster('intl', { STOCKMESH_HEARTBEAT_MS: '500' });
  expect((await call(at(EU), 'PUT', `/v1/warehouses/${W}`, { body: { region: EU, name: W } })).status).toBe(201);
  for (const id of [US, AP]) {
    await waitFor(
      async () => {
        const list = await call<{ items: { id: string }[] }>(at(id), 'GET', '/v1/warehouses');
        return list.body.items.some((w) => w.id === W) ? true : undefined;
      },
      { what: `${id} to know ${W}` },
    );
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('the internal listener of a region process', () => {
  it('is not on the public port, and refuses unsigned calls', async () => {
    const path = `/internal/v1/holds/${US}.${randomUUID()}.1`;
    const body = { reservationId: `${US}.${randomUUID()}`, warehouseId: W, sku: 'SKU-INT', quantity: 1 };
    const onPublic = await call(at(EU), 'PUT', path, { body });
    expect(onPublic.status).toBe(404);
    expect(onPublic.headers['content-type']).toMatch(/^application\/problem\+json/);
    const unsigned = await call({ url: t.internal(EU).internalUrl }, 'PUT', path, { body });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body).toMatchObject({ code: 'region-unauthenticated' });
    // Signed as the test harness's cluster secret: a region's call, answered.
    const signed = await signedCall(t.internal(EU), 'PUT', path, { body, from: US });
    expect(signed.status).toBe(409); // nothing to hold yet: the owner's own answer, not a 401
    expect(signed.body).toMatchObject({ code: 'insufficient-stock' });
  });

  it('holds and commits stock across regions: the coordinator signs its calls to the owner', async () => {
    expect((await call(at(EU), 'PUT', `/v1/warehouses/${W}/stock/SKU-INT`, { body: { onHand: 5 } })).status).toBe(200);
    await waitFor(
      async () => ((await call<{ available: number }>(at(US), 'GET', '/v1/availability/SKU-INT')).body.available === 5 ? true : undefined),
      { what: `${US} to see the 5 units of ${EU}` },
    );
    const made = await call<{ id: string; allocations: { region: string; quantity: number }[] }>(at(US), 'POST', '/v1/reservations', {
      body: { lines: [{ sku: 'SKU-INT', quantity: 3 }] },
      headers: { [HEADERS.idempotencyKey]: randomUUID() },
    });
    expect(made.status).toBe(201);
    expect(made.body.allocations).toEqual([expect.objectContaining({ region: EU, quantity: 3 })]);
    expect((await call(at(US), 'POST', `/v1/reservations/${made.body.id}/commit`)).status).toBe(200);
    expect((await call(at(EU), 'GET', `/v1/warehouses/${W}/stock/SKU-INT`)).body).toMatchObject({ onHand: 2, reserved: 0 });
  });

  it('forwards a client write signed, and believes none of the forwarding headers the client set', async () => {
    const written = await call(at(AP), 'PUT', `/v1/warehouses/${W}/stock/SKU-FORGE`, {
      body: { onHand: 9 },
      headers: {
        [HEADERS.actor]: 'mallory',
        [HEADERS.forwardedFrom]: US,
        [HEADERS.caller]: encodeCaller({ keyId: 'k-admin', name: 'admin', scopes: ['admin'] }),
      },
    });
    expect(written.status).toBe(200);
    expect(written.headers['stockmesh-served-by']).toBe(EU);
    const ledger = await call<{ items: Movement[] }>(at(EU), 'GET', `/v1/warehouses/${W}/stock/SKU-FORGE/movements`);
    // The actor is the key the client really sent (the test admin key), not the forged caller or X-Actor.
    expect(ledger.body.items).toEqual([expect.objectContaining({ kind: 'set', actor: 'key bootstrap (STOCKMESH_ADMIN_KEY)' })]);
  });
});
