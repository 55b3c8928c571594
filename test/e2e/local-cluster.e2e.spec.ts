import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, signedCall, startTestCluster, testKafka, type TestCluster } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';

// The three-region local cluster as real processes, with the real broker up and real PostgreSQL.
let t: TestCluster;
const region = (id: string): { url: string } => ({ url: t.url(id) });
const US = 'us-east';
const EU = 'eu-west';
const AP = 'ap-south';

/**
 * Puts a catalog entry in place directly in a region's home database: the catalog does not
 * replicate yet, and forwarding needs the non-owner to know the owner.
 */
async function knowWarehouse(regionId: string, warehouseId: string, owner: string): Promise<void> {
  const home = t.cluster.config.regions.find((r) => r.id === regionId)?.databases[0];
  if (!home) throw new Error(`no region ${regionId}`);
  const client = new pg.Client({ connectionString: home.url });
  await client.connect();
  try {
    await client.query(`INSERT INTO warehouses (id, region, name) VALUES ($1, $2, $1) ON CONFLICT (id) DO NOTHING`, [warehouseId, owner]);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  // Forwarded writes queue behind one hot row in the parallel test: on two busy cores that can take
  // longer than the default 5 s forwarding timeout, and the test is about lost updates, not latency.
  t = await startTestCluster('e2e', { STOCKMESH_FORWARD_TIMEOUT_MS: '30000' });
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('the local cluster', () => {
  it('runs three ready regions next to a real Kafka broker', async () => {
    const kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect((await admin.describeCluster()).brokers.length).toBeGreaterThanOrEqual(1);
    } finally {
      await admin.disconnect();
    }
    for (const id of [US, EU, AP]) {
      const ready = await call(region(id), 'GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.headers['stockmesh-served-by']).toBe(id);
    }
  });

  it('serves the OpenAPI document and the Swagger UI', async () => {
    const json = await call<{ paths: Record<string, unknown> }>(region(US), 'GET', '/docs/json');
    expect(Object.keys(json.body.paths)).toEqual(
      expect.arrayContaining(['/v1/warehouses/{warehouseId}', '/v1/warehouses/{warehouseId}/stock/{sku}/adjustments', '/health/ready']),
    );
    const ui = await fetch(`${t.url(US)}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });
});

describe('forwarding to the owning region', () => {
  beforeAll(async () => {
    // Registered through a region that does not own it: forwarded to eu-west.
    const registered = await call(region(US), 'PUT', '/v1/warehouses/fra-1', { body: { region: EU, name: 'Frankfurt 1' } });
    expect(registered.status).toBe(201);
    expect(registered.headers['stockmesh-served-by']).toBe(EU);
    await knowWarehouse(US, 'fra-1', EU);
    await knowWarehouse(AP, 'fra-1', EU);
  });

  it('registers a warehouse in its own region when asked anywhere', async () => {
    const list = await call<{ items: { id: string; region: string }[] }>(region(EU), 'GET', '/v1/warehouses');
    expect(list.body.items).toContainEqual(expect.objectContaining({ id: 'fra-1', region: EU }));
  });

  it('forwards stock writes and reads, keeping the request id', async () => {
    const requestId = `e2e-${randomUUID()}`;
    const written = await call(region(US), 'PUT', '/v1/warehouses/fra-1/stock/SKU-FWD', {
      body: { onHand: 40 },
      headers: { 'x-request-id': requestId },
    });
    expect(written.status).toBe(200);
    expect(written.headers['stockmesh-served-by']).toBe(EU);
    expect(written.headers['x-request-id']).toBe(requestId);
    expect(written.body).toMatchObject({
      warehouseId: 'fra-1',
      region: EU,
      onHand: 40,
      servedBy: EU,
      movement: { requestId, actor: 'key bootstrap (STOCKMESH_ADMIN_KEY)' },
    });

    const read = await call(region(AP), 'GET', '/v1/warehouses/fra-1/stock/SKU-FWD');
    expect(read.body).toMatchObject({ onHand: 40, version: 1, servedBy: EU });

    // The owner logged the forwarded request under the same id.
    const ownerLines = readFileSync(t.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes(requestId))
      .map((line) => JSON.parse(line) as { region?: string });
    expect(ownerLines.some((l) => l.region === EU)).toBe(true);
  });

  it('replays an idempotent write sent twice through another region', async () => {
    const key = randomUUID();
    const send = () =>
      call(region(AP), 'POST', '/v1/warehouses/fra-1/stock/SKU-FWD/adjustments', {
        body: { delta: 5, reason: 'received' },
        headers: { 'idempotency-key': key },
      });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect((await call(region(EU), 'GET', '/v1/warehouses/fra-1/stock/SKU-FWD')).body).toMatchObject({ onHand: 45 });
  });

  it("answers bad input with the owner's problem details, or locally when it cannot be routed", async () => {
    const invalid = await call(region(US), 'POST', '/v1/warehouses/fra-1/stock/SKU-FWD/adjustments', {
      body: { delta: 1.5, reason: 'received' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(invalid.headers['stockmesh-served-by']).toBe(EU);
    expect(invalid.body).toMatchObject({ code: 'validation-failed' });

    const malformed = await call(region(US), 'POST', '/v1/warehouses/fra-1/stock/SKU-FWD/adjustments', {
      rawBody: '{"delta":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'malformed-json' });

    const oversell = await call(region(US), 'POST', '/v1/warehouses/fra-1/stock/SKU-FWD/adjustments', {
      body: { delta: -1000, reason: 'lost' },
    });
    expect(oversell.status).toBe(409);
    expect(oversell.body).toMatchObject({ code: 'insufficient-stock', onHand: 45 });

    const unknown = await call(region(US), 'GET', '/v1/warehouses/nowhere-1/stock/SKU-FWD');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'warehouse-not-found' });
  });

  it('never forwards a forwarded request again (421)', async () => {
    const misdirected = await signedCall(t.internal(AP), 'GET', '/v1/warehouses/fra-1/stock/SKU-FWD', { from: US, forwarded: true });
    expect(misdirected.status).toBe(421);
    expect(misdirected.body).toMatchObject({ code: 'misdirected-request', owner: EU });
    // From a client, the header means nothing: the request is forwarded as any other.
    const claimed = await call(region(AP), 'GET', '/v1/warehouses/fra-1/stock/SKU-FWD', { headers: { 'stockmesh-forwarded-from': US } });
    expect(claimed.status).toBe(200);
    expect(claimed.headers['stockmesh-served-by']).toBe(EU);
  });

  it('never loses an update when parallel adjustments arrive through different regions', async () => {
    await call(region(EU), 'PUT', '/v1/warehouses/fra-1/stock/SKU-PAR', { body: { onHand: 0 } });
    const entry = [US, EU, AP];
    const answers = await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        // A busy region may shed a request (503): it is sent again with its Idempotency-Key.
        call(region(entry[i % 3]), 'POST', '/v1/warehouses/fra-1/stock/SKU-PAR/adjustments', {
          body: { delta: 1, reason: 'received' },
          headers: { 'idempotency-key': `par-${i}` },
          retryBusy: true,
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(new Array(90).fill(201));
    expect((await call(region(EU), 'GET', '/v1/warehouses/fra-1/stock/SKU-PAR')).body).toMatchObject({ onHand: 90, version: 91 });
  });

  it('answers 503 while the owner is down, and serves its data again once it is back', async () => {
    await t.cluster.stopRegion(EU);
    const down = await call(region(US), 'GET', '/v1/warehouses/fra-1/stock/SKU-FWD');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'region-unavailable', region: EU });
    const refused = await call(region(US), 'POST', '/v1/warehouses/fra-1/stock/SKU-FWD/adjustments', {
      body: { delta: 1, reason: 'received' },
    });
    expect(refused.status).toBe(503);

    await t.cluster.startRegion(EU);
    expect((await call(region(US), 'GET', '/v1/warehouses/fra-1/stock/SKU-FWD')).body).toMatchObject({ onHand: 45, servedBy: EU });
  }, 60_000);
});
