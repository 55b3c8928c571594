import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HEADERS } from '@stockmesh/contracts';
import { encodeCaller } from '@stockmesh/http';
import { ShardDatabases } from '@stockmesh/persistence';
import { call, signedCall, signedHeaders, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// The internal listener of one region in-process on the real PostgreSQL: the hold API is not on
// the public port, and on the internal one only calls signed by a region of the cluster count.
let region: TestRegion;
const W = 'own-1';

interface Stock {
  onHand: number;
  reserved: number;
  available: number;
}
interface Ledger {
  items: { kind: string; actor: string; requestId: string }[];
}

const stock = async (sku: string): Promise<Stock> => (await call<Stock>(region, 'GET', `/v1/warehouses/${W}/stock/${sku}`)).body;
const holdPath = (): string => `/internal/v1/holds/us-east.${randomUUID()}.1`;
const holdBody = (sku: string, quantity = 3): Record<string, unknown> => ({
  reservationId: `us-east.${randomUUID()}`,
  warehouseId: W,
  sku,
  quantity,
});

function expectRefused(answer: { status: number; headers: Record<string, string>; body: Record<string, unknown> }): void {
  expect(answer.status).toBe(401);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ code: 'region-unauthenticated' });
}

beforeAll(async () => {
  region = await startTestRegion('intlisten');
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
  for (const sku of ['SKU-PUB', 'SKU-SIG', 'SKU-ACTOR'])
    expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/${sku}`, { body: { onHand: 10 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('the public listener', () => {
  it('answers 404 problem+json for the internal hold API, however the path is spelt, and holds nothing', async () => {
    const body = { ...holdBody('SKU-PUB', 10) };
    for (const path of [holdPath(), holdPath().replace('/internal/', '/%69nternal/')]) {
      const placed = await call(region, 'PUT', path, { body });
      expect(placed.status).toBe(404);
      expect(placed.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(placed.body).toMatchObject({ code: 'not-found' });
    }
    // A signed call is worth nothing on the public port either.
    const path = holdPath();
    const raw = JSON.stringify(body);
    const signed = await call(region, 'PUT', path, { rawBody: raw, headers: signedHeaders(region, 'PUT', path, raw) });
    expect(signed.status).toBe(404);
    expect(await stock('SKU-PUB')).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    // Another method is a 404 too, never a 405 that would name the internal route's methods.
    const other = await call(region, 'GET', path);
    expect([other.status, other.body.code, other.headers.allow]).toEqual([404, 'not-found', undefined]);
  });

  it('ignores forwarding headers a client sets: the ledger says who really called', async () => {
    const forged = await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-ACTOR`, {
      body: { onHand: 11 },
      headers: {
        [HEADERS.actor]: 'mallory',
        [HEADERS.forwardedFrom]: 'eu-west',
        [HEADERS.caller]: encodeCaller({ keyId: 'k-admin', name: 'admin', scopes: ['admin'] }),
      },
    });
    expect(forged.status).toBe(200);
    const ledger = await call<Ledger>(region, 'GET', `/v1/warehouses/${W}/stock/SKU-ACTOR/movements`);
    expect(ledger.body.items[0]).toMatchObject({ kind: 'set', actor: 'key bootstrap (STOCKMESH_ADMIN_KEY)' });
    expect(ledger.body.items.map((m) => m.actor)).not.toContain('mallory');
  });
});

describe('the internal listener', () => {
  it('serves a call signed by a region of the cluster', async () => {
    const placed = await signedCall<{ status: string }>(region, 'PUT', holdPath(), { body: holdBody('SKU-SIG', 2) });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ status: 'held' });
    expect(await stock('SKU-SIG')).toMatchObject({ onHand: 10, reserved: 2 });
  });

  it('serves a signed call without a body', async () => {
    const read = await signedCall<Stock>(region, 'GET', `/v1/warehouses/${W}/stock/SKU-SIG`);
    expect(read.body).toMatchObject({ onHand: 10 });
    expect(read.status).toBe(200);
  });

  it("answers a signed forwarded call for another region's resource with 421, not by forwarding it again", async () => {
    const databases = region.app.get(ShardDatabases);
    await databases.inDatabase(databases.home(), (tx) =>
      tx.query(`INSERT INTO warehouses (id, region, name) VALUES ('fra-9', 'eu-west', 'fra-9') ON CONFLICT (id) DO NOTHING`),
    );
    const misdirected = await signedCall(region, 'GET', '/v1/warehouses/fra-9/stock/SKU-SIG', { forwarded: true });
    expect(misdirected.body).toMatchObject({ code: 'misdirected-request', owner: 'eu-west' });
    expect(misdirected.status).toBe(421);
  });

  it('refuses a call without a signature (401), even one a client makes with the public API', async () => {
    expectRefused(await call({ url: region.internalUrl }, 'PUT', holdPath(), { body: holdBody('SKU-SIG') }));
    expectRefused(await call({ url: region.internalUrl }, 'GET', `/v1/warehouses/${W}/stock/SKU-SIG`));
    expect(await stock('SKU-SIG')).toMatchObject({ reserved: 2 });
  });

  it('refuses a forged signature, a signature of another body, another region or an unknown one', async () => {
    expectRefused(await signedCall(region, 'PUT', holdPath(), { body: holdBody('SKU-SIG'), secret: 'x'.repeat(48) }));
    expectRefused(await signedCall(region, 'PUT', holdPath(), { body: holdBody('SKU-SIG'), from: 'mars-1' }));
    expectRefused(
      await signedCall(region, 'PUT', holdPath(), {
        body: holdBody('SKU-SIG'),
        tamper: (h) => (h[HEADERS.signature] = `v1=${'A'.repeat(43)}`),
      }),
    );
    // Signed for eu-west: not valid at us-east.
    const path = holdPath();
    const raw = JSON.stringify(holdBody('SKU-SIG'));
    const elsewhere = signedHeaders({ internalUrl: region.internalUrl, regionId: 'eu-west' }, 'PUT', path, raw, { from: 'ap-south' });
    expectRefused(await call({ url: region.internalUrl }, 'PUT', path, { rawBody: raw, headers: elsewhere }));
    // The signed digest is of another body (10 units signed as 1).
    const swapped = signedHeaders(region, 'PUT', path, JSON.stringify(holdBody('SKU-SIG', 1)));
    expectRefused(
      await call({ url: region.internalUrl }, 'PUT', path, { rawBody: JSON.stringify(holdBody('SKU-SIG', 8)), headers: swapped }),
    );
    expect(await stock('SKU-SIG')).toMatchObject({ reserved: 2 });
  });

  it('refuses the same signed request the second time (replay)', async () => {
    const path = holdPath();
    const raw = JSON.stringify(holdBody('SKU-SIG', 1));
    const headers = signedHeaders(region, 'PUT', path, raw);
    expect((await call({ url: region.internalUrl }, 'PUT', path, { rawBody: raw, headers })).status).toBe(201);
    expectRefused(await call({ url: region.internalUrl }, 'PUT', path, { rawBody: raw, headers }));
  });

  it('refuses a timestamp outside the skew window, in the past or the future', async () => {
    const window = region.config.regionTrust.maxSkewMs;
    for (const at of [Date.now() - window - 60_000, Date.now() + window + 60_000]) {
      expectRefused(await signedCall(region, 'PUT', holdPath(), { body: holdBody('SKU-SIG'), at }));
    }
    expect(await stock('SKU-SIG')).toMatchObject({ reserved: 3 });
  });

  it("refuses a signed /v1 call that names no client, and checks the named client's scope", async () => {
    const nobody = await signedCall(region, 'GET', `/v1/warehouses/${W}/stock/SKU-SIG`, { caller: null });
    expect([nobody.status, nobody.body.code]).toEqual([401, 'unauthenticated']);
    const reader = { keyId: 'k-8', name: 'dashboard', scopes: ['stock:read'] };
    expect((await signedCall(region, 'GET', `/v1/warehouses/${W}/stock/SKU-SIG`, { caller: reader })).status).toBe(200);
    const write = await signedCall(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-SIG`, { body: { onHand: 1 }, caller: reader });
    expect([write.status, write.body.code]).toEqual([403, 'insufficient-scope']);
  });

  it('believes the caller a signed forwarded call names: the ledger records that client', async () => {
    const caller = { keyId: 'k-7', name: 'wms', scopes: ['stock:write'] };
    const set = await signedCall(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-ACTOR`, { body: { onHand: 12 }, forwarded: true, caller });
    expect(set.status).toBe(200);
    const ledger = await call<Ledger>(region, 'GET', `/v1/warehouses/${W}/stock/SKU-ACTOR/movements`);
    expect(ledger.body.items[0]).toMatchObject({ kind: 'set', actor: 'key k-7 (wms)' });
  });
});
