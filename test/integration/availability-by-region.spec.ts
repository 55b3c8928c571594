import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';

// `GET /v1/availability/{sku}/regions` (what the dashboard's SKU lookup shows) and
// `GET /v1/cluster/activity`, with two real regions in-process that call each other's internal
// listener, and a third (ap-south) that never answers. Replication is off, so each region
// shows only its own rows: what each says is its own view, not a copy of the other's.
let usEast: TestRegion;
let euWest: TestRegion;
const basePort = 25_000 + Math.floor(Math.random() * 1_000) * 4;

interface RegionEntry {
  region: string;
  answered: boolean;
  availability: {
    sku: string;
    servedBy: string;
    onHand: number;
    warehouses: { warehouseId: string; onHand: number; updatedAt: string }[];
  } | null;
  problem: string | null;
  elapsedMs: number;
}
interface ByRegion {
  sku: string;
  servedBy: string;
  askedAt: string;
  regions: RegionEntry[];
}

async function keyWith(scopes: string[]): Promise<string> {
  const made = await call<{ key: string }>(usEast, 'POST', '/v1/api-keys', { body: { name: `byregion-${scopes.join('-')}`, scopes } });
  expect(made.status).toBe(201);
  return made.body.key;
}

beforeAll(async () => {
  const env = { STOCKMESH_BASE_PORT: String(basePort), STOCKMESH_DATABASES_PER_REGION: '1', STOCKMESH_FORWARD_TIMEOUT_MS: '1500' };
  usEast = await startTestRegion('byregion_us', env, { port: basePort });
  euWest = await startTestRegion('byregion_eu', { ...env, STOCKMESH_REGION: 'eu-west' }, { port: basePort + 1 });
  expect((await call(usEast, 'PUT', '/v1/warehouses/nyc-1', { body: { region: 'us-east', name: 'nyc-1' } })).status).toBe(201);
  expect((await call(euWest, 'PUT', '/v1/warehouses/fra-1', { body: { region: 'eu-west', name: 'fra-1' } })).status).toBe(201);
  expect((await call(usEast, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-BR', { body: { onHand: 7 } })).status).toBe(200);
  expect((await call(euWest, 'PUT', '/v1/warehouses/fra-1/stock/SKU-BR', { body: { onHand: 11 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await usEast?.close();
  await euWest?.close();
});

describe('GET /v1/availability/{sku}/regions', () => {
  it('shows each region’s own view side by side, and a region that does not answer as not answered', async () => {
    // A key made at us-east only (no replication): eu-west takes the client's identity from
    // us-east's signed call and checks stock:read against it.
    const key = await keyWith(['stock:read']);
    const answer = await call<ByRegion>(usEast, 'GET', '/v1/availability/SKU-BR/regions', { key });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ sku: 'SKU-BR', servedBy: 'us-east' });
    expect(Date.parse(answer.body.askedAt)).toBeGreaterThan(Date.now() - 60_000);
    const [us, eu, ap] = answer.body.regions;
    expect(answer.body.regions.map((r) => r.region)).toEqual(['us-east', 'eu-west', 'ap-south']);
    expect(us).toMatchObject({ answered: true, problem: null, availability: { servedBy: 'us-east', onHand: 7 } });
    expect(us.availability?.warehouses).toMatchObject([{ warehouseId: 'nyc-1', onHand: 7 }]);
    expect(eu).toMatchObject({ answered: true, problem: null, availability: { servedBy: 'eu-west', onHand: 11 } });
    expect(eu.availability?.warehouses).toMatchObject([{ warehouseId: 'fra-1', onHand: 11 }]);
    // Exactly what eu-west answers to the same client directly (for the admin key, which it knows).
    expect(eu.availability).toEqual((await call(euWest, 'GET', '/v1/availability/SKU-BR')).body);
    expect(ap).toMatchObject({ answered: false, availability: null, problem: expect.stringMatching(/^region ap-south did not answer/) });
    for (const r of answer.body.regions) expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('needs stock:read, refuses a bad SKU with problem details, and changes nothing', async () => {
    const noKey = await call(usEast, 'GET', '/v1/availability/SKU-BR/regions', { key: null });
    expect(noKey.status).toBe(401);
    const shop = await keyWith(['reservations:write']);
    const refused = await call(usEast, 'GET', '/v1/availability/SKU-BR/regions', { key: shop });
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'insufficient-scope', scope: 'stock:read' });
    const bad = await call(usEast, 'GET', `/v1/availability/${'x'.repeat(65)}/regions`);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body).toMatchObject({ code: 'validation-failed' });
  });
});

describe('GET /v1/cluster/activity', () => {
  it('counts client writes answered, so two readings give a rate', async () => {
    const first = await call<{ region: string; at: string; since: string; totals: { writeRequests: number } }>(
      usEast,
      'GET',
      '/v1/cluster/activity',
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ region: 'us-east', totals: { eventsApplied: 0, deadLetters: 0 } });
    expect((await call(usEast, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-BR', { body: { onHand: 8 } })).status).toBe(200);
    expect((await call(usEast, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-BR', { body: { onHand: -1 } })).status).toBe(400);
    const second = await call<typeof first.body>(usEast, 'GET', '/v1/cluster/activity');
    expect(second.body.totals.writeRequests).toBe(first.body.totals.writeRequests + 1);
    expect(second.body.since).toBe(first.body.since);
    expect(Date.parse(second.body.at)).toBeGreaterThanOrEqual(Date.parse(first.body.at));
  });
});
