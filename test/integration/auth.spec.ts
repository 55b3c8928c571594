import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestRegion, TEST_ADMIN_KEY, type Answer, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// API keys and scopes on one region in-process, against its own databases on the real PostgreSQL.
let region: TestRegion;
const W = 'nyc-1';

interface CreatedKey {
  id: string;
  name: string;
  scopes: string[];
  key: string;
  createdAt: string;
  region: string;
  revokedAt: string | null;
}

async function makeKey(name: string, scopes: string[]): Promise<CreatedKey> {
  const made = await call<CreatedKey>(region, 'POST', '/v1/api-keys', { body: { name, scopes } });
  expect(made.status).toBe(201);
  return made.body;
}

function expectUnauthenticated(answer: Answer): void {
  expect(answer.status).toBe(401);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="stockmesh"/);
  expect(answer.body).toMatchObject({ status: 401, code: 'unauthenticated' });
}

beforeAll(async () => {
  region = await startTestRegion('auth');
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: 'New York 1' } })).status).toBe(201);
  expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-A`, { body: { onHand: 10 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('401: no valid key', () => {
  const stock = `/v1/warehouses/${W}/stock/SKU-A`;

  it('refuses a request without Authorization', async () => {
    const answer = await call(region, 'GET', stock, { key: null });
    expectUnauthenticated(answer);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="stockmesh"');
    expect(answer.body).toMatchObject({ reason: 'missing-key' });
  });

  it.each([
    ['another scheme', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['Bearer without a key', 'Bearer '],
    ['a key with a space', 'Bearer smk_a b'],
    ['two keys', `Bearer ${TEST_ADMIN_KEY}, Bearer ${TEST_ADMIN_KEY}`],
  ])('refuses a malformed header: %s', async (_, header) => {
    const answer = await call(region, 'GET', stock, { headers: { authorization: header } });
    expectUnauthenticated(answer);
    expect(answer.body).toMatchObject({ reason: 'malformed' });
  });

  it.each([
    ['an unknown key of the right form', `smk_0123456789abcdef_${'A'.repeat(43)}`],
    ['a key of no known form', 'not-a-stockmesh-key'],
    ['the admin key with one character changed', `${TEST_ADMIN_KEY.slice(0, -1)}${TEST_ADMIN_KEY.endsWith('x') ? 'y' : 'x'}`],
  ])('refuses %s', async (_, key) => {
    const answer = await call(region, 'GET', stock, { key });
    expectUnauthenticated(answer);
    expect(answer.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(answer.body).toMatchObject({ reason: 'invalid-key' });
  });

  it('refuses a real key id with a wrong secret', async () => {
    const made = await makeKey('wrong-secret', ['stock:read']);
    expect((await call(region, 'GET', stock, { key: made.key })).status).toBe(200);
    const forged = `smk_${made.id}_${'B'.repeat(43)}`;
    expectUnauthenticated(await call(region, 'GET', stock, { key: forged }));
  });

  it('accepts the scheme name in any case', async () => {
    expect((await call(region, 'GET', stock, { headers: { authorization: `bearer ${TEST_ADMIN_KEY}` } })).status).toBe(200);
  });

  it('leaves the health checks and the OpenAPI document open', async () => {
    expect((await call(region, 'GET', '/health/live', { key: null })).status).toBe(200);
    expect((await call(region, 'GET', '/health/ready', { key: null })).status).toBe(200);
    expect((await call(region, 'GET', '/docs/json', { key: null })).status).toBe(200);
  });

  it('leaves the internal hold routes to region-to-region trust (issue 8 gives them their own listener)', async () => {
    // Reachable without a key as before (a hold id that does not exist: 404, not 401).
    const hold = await call(region, 'POST', `/internal/v1/holds/us-east.${randomUUID()}.1/release`, {
      key: null,
      body: { reservationId: `us-east.${randomUUID()}`, warehouseId: W, sku: 'SKU-A' },
    });
    expect(hold.status).not.toBe(401);
  });
});

describe('403: a valid key without the scope', () => {
  const reservationId = `us-east.${randomUUID()}`;
  const transferId = `us-east.${randomUUID()}`;
  /** One request per operation, and the scope it needs. */
  const operations: [string, 'GET' | 'PUT' | 'POST' | 'DELETE', string, unknown?][] = [
    ['stock:read', 'GET', '/v1/warehouses'],
    ['stock:read', 'GET', `/v1/warehouses/${W}/stock/SKU-A`],
    ['stock:read', 'GET', `/v1/warehouses/${W}/stock/SKU-A/movements`],
    ['stock:read', 'GET', '/v1/availability/SKU-A'],
    ['stock:read', 'POST', '/v1/availability/query', { skus: ['SKU-A'] }],
    ['stock:read', 'GET', '/v1/cluster'],
    ['stock:read', 'GET', `/v1/transfers/${transferId}`],
    ['stock:write', 'PUT', `/v1/warehouses/${W}/stock/SKU-B`, { onHand: 5 }],
    ['stock:write', 'POST', `/v1/warehouses/${W}/stock/SKU-B/adjustments`, { delta: 1, reason: 'received' }],
    ['stock:write', 'POST', '/v1/transfers', { sku: 'SKU-A', fromWarehouseId: W, toWarehouseId: 'nyc-2', quantity: 1 }],
    ['catalog:write', 'PUT', '/v1/warehouses/nyc-2', { region: 'us-east', name: 'New York 2' }],
    ['reservations:write', 'POST', '/v1/reservations', { lines: [{ sku: 'SKU-A', quantity: 1 }] }],
    ['reservations:write', 'GET', `/v1/reservations/${reservationId}`],
    ['reservations:write', 'POST', `/v1/reservations/${reservationId}/commit`],
    ['reservations:write', 'POST', `/v1/reservations/${reservationId}/release`],
    ['admin', 'GET', '/v1/api-keys'],
    ['admin', 'POST', '/v1/api-keys', { name: 'x', scopes: ['stock:read'] }],
    ['admin', 'DELETE', '/v1/api-keys/0123456789abcdef'],
  ];
  const keys = new Map<string, CreatedKey>();

  beforeAll(async () => {
    for (const scope of ['stock:read', 'stock:write', 'catalog:write', 'reservations:write', 'admin']) {
      keys.set(scope, await makeKey(`only ${scope}`, [scope]));
    }
  });

  it.each(['stock:read', 'stock:write', 'catalog:write', 'reservations:write', 'admin'])(
    'lets a key with only %s do exactly its operations (admin: all), and names the missing scope otherwise',
    async (scope) => {
      const key = keys.get(scope)!.key;
      for (const [needed, method, path, body] of operations) {
        const answer = await call(region, method, path, { key, body, headers: { 'idempotency-key': randomUUID() } });
        const what = `${scope} ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`;
        if (scope === 'admin' || scope === needed) {
          expect([what, answer.status !== 401 && answer.status !== 403]).toEqual([what, true]);
        } else {
          expect([what, answer.status]).toEqual([what, 403]);
          expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(answer.body).toMatchObject({
            code: 'insufficient-scope',
            scope: needed,
            detail: `this operation needs the ${needed} scope`,
          });
          expect(answer.headers['www-authenticate']).toBe(`Bearer realm="stockmesh", error="insufficient_scope", scope="${needed}"`);
        }
      }
    },
  );

  it('changes nothing when it refuses', async () => {
    const before = await call<{ onHand: number; version: number }>(region, 'GET', `/v1/warehouses/${W}/stock/SKU-A`);
    const refused = await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-A`, {
      key: keys.get('stock:read')!.key,
      body: { onHand: 999 },
    });
    expect(refused.status).toBe(403);
    expect((await call(region, 'GET', `/v1/warehouses/${W}/stock/SKU-A`)).body).toEqual(before.body);
  });

  it('gives a storefront key (stock:read reservations:write) reads and reservations, not stock writes', async () => {
    const storefront = (await makeKey('storefront', ['stock:read', 'reservations:write'])).key;
    expect((await call(region, 'GET', '/v1/availability/SKU-A', { key: storefront })).status).toBe(200);
    const reserved = await call(region, 'POST', '/v1/reservations', {
      key: storefront,
      body: { lines: [{ sku: 'SKU-A', quantity: 1 }] },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(reserved.status).toBe(201);
    expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-A`, { key: storefront, body: { onHand: 0 } })).status).toBe(403);
  });
});

describe('API keys', () => {
  it('makes a key whose secret is shown once, lists it without secrets, and revokes it', async () => {
    const made = await call<CreatedKey>(region, 'POST', '/v1/api-keys', { body: { name: 'wms', scopes: ['stock:write', 'stock:read'] } });
    expect(made.status).toBe(201);
    expect(made.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      name: 'wms',
      scopes: ['stock:write', 'stock:read'],
      region: 'us-east',
      createdAt: expect.any(String),
      revokedAt: null,
      channel: null,
      key: expect.stringMatching(/^smk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/),
    });
    expect(made.body.key.startsWith(`smk_${made.body.id}_`)).toBe(true);

    const list = await call<{ items: Record<string, unknown>[] }>(region, 'GET', '/v1/api-keys');
    expect(list.status).toBe(200);
    const listed = list.body.items.find((k) => k.id === made.body.id);
    expect(listed).toEqual({
      id: made.body.id,
      name: 'wms',
      scopes: ['stock:write', 'stock:read'],
      region: 'us-east',
      createdAt: made.body.createdAt,
      revokedAt: null,
      channel: null,
    });
    // The secret may itself contain '_': it is everything after smk_<id>_.
    expect(JSON.stringify(list.body)).not.toContain(made.body.key.slice(`smk_${made.body.id}_`.length));

    expect((await call(region, 'GET', '/v1/warehouses', { key: made.body.key })).status).toBe(200);
    const revoked = await call(region, 'DELETE', `/v1/api-keys/${made.body.id}`);
    expect(revoked.status).toBe(204);
    const refused = await call(region, 'GET', '/v1/warehouses', { key: made.body.key });
    expectUnauthenticated(refused);
    expect(refused.body).toMatchObject({ reason: 'revoked-key' });
    expect((await call(region, 'DELETE', `/v1/api-keys/${made.body.id}`)).status).toBe(204);
    const after = await call<{ items: CreatedKey[] }>(region, 'GET', '/v1/api-keys');
    expect(after.body.items.find((k) => k.id === made.body.id)?.revokedAt).toEqual(expect.any(String));
  });

  it('stores only the hash of a secret', async () => {
    const made = await makeKey('hashed', ['stock:read']);
    const secret = made.key.slice(`smk_${made.id}_`.length);
    const client = new pg.Client({ connectionString: region.config.shardMap.databaseFor(0).url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT to_jsonb(k)::text AS row FROM api_keys k WHERE id = $1`, [made.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0].row).not.toContain(secret);
      const outbox = await client.query(`SELECT value FROM outbox WHERE key = $1`, [made.id]);
      expect(outbox.rows.length).toBeGreaterThan(0);
      for (const r of outbox.rows) expect(r.value).not.toContain(secret);
    } finally {
      await client.end();
    }
  });

  it('answers 404 for an unknown key and 400 for something that is not a key id', async () => {
    const unknown = await call(region, 'DELETE', '/v1/api-keys/00000000000000ff');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'api-key-not-found' });
    expect((await call(region, 'DELETE', '/v1/api-keys/bootstrap')).status).toBe(400);
  });

  it.each([
    ['no name', { scopes: ['stock:read'] }],
    ['an empty name', { name: '', scopes: ['stock:read'] }],
    ['a blank name', { name: '   ', scopes: ['stock:read'] }],
    ['a name of 65 characters', { name: 'x'.repeat(65), scopes: ['stock:read'] }],
    ['a name with a control character', { name: 'a\nb', scopes: ['stock:read'] }],
    ['no scopes', { name: 'x', scopes: [] }],
    ['an unknown scope', { name: 'x', scopes: ['root'] }],
    ['a repeated scope', { name: 'x', scopes: ['stock:read', 'stock:read'] }],
    ['scopes that are not a list', { name: 'x', scopes: 'admin' }],
    ['an unknown field', { name: 'x', scopes: ['admin'], secret: 'mine' }],
  ])('refuses %s with 400', async (_, body) => {
    const answer = await call(region, 'POST', '/v1/api-keys', { body });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'validation-failed' });
  });

  it('lets an admin key made through the API make keys too', async () => {
    const admin = await makeKey('ops', ['admin']);
    const made = await call<CreatedKey>(region, 'POST', '/v1/api-keys', { key: admin.key, body: { name: 'ci', scopes: ['stock:read'] } });
    expect(made.status).toBe(201);
  });
});

describe('the ledger', () => {
  it("records the key's id and name as the actor, never a header the client chose", async () => {
    const wms = await makeKey('wms-7', ['stock:write', 'stock:read']);
    const path = `/v1/warehouses/${W}/stock/SKU-LEDGER`;
    const set = await call<{ movement: { actor: string } }>(region, 'PUT', path, {
      key: wms.key,
      body: { onHand: 5 },
      headers: { 'x-actor': 'someone-else' },
    });
    expect(set.status).toBe(200);
    expect(set.body.movement.actor).toBe(`key ${wms.id} (wms-7)`);
    const ledger = await call<{ items: { actor: string }[] }>(region, 'GET', `${path}/movements`, { key: wms.key });
    expect(ledger.body.items.map((m) => m.actor)).toEqual([`key ${wms.id} (wms-7)`]);
  });

  it('records the bootstrap key as such', async () => {
    const set = await call<{ movement: { actor: string } }>(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-BOOT`, { body: { onHand: 1 } });
    expect(set.body.movement.actor).toBe('key bootstrap (STOCKMESH_ADMIN_KEY)');
  });
});

describe('the OpenAPI document', () => {
  it('has a bearer scheme, and every /v1 operation requires it and names its scope', async () => {
    const doc = await call<{
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown; 'x-required-scope'?: string; responses: Record<string, unknown> }>>;
    }>(region, 'GET', '/docs/json');
    expect(doc.body.components.securitySchemes['api-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
    const v1 = Object.entries(doc.body.paths).filter(([path]) => path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThan(10);
    for (const [path, operations] of v1) {
      for (const [method, operation] of Object.entries(operations)) {
        expect([method, path, operation.security]).toEqual([method, path, [{ 'api-key': [] }]]);
        expect([method, path, operation['x-required-scope']]).toEqual([method, path, expect.any(String)]);
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
    expect(doc.body.paths['/health/ready'].get.security).toEqual([]);
  });
});

describe('configuration', () => {
  it('serves no /docs when STOCKMESH_DOCS=false, and no bootstrap key when STOCKMESH_ADMIN_KEY is unset', async () => {
    const closed = await startTestRegion('authcfg', { STOCKMESH_DOCS: 'false', STOCKMESH_ADMIN_KEY: '' });
    try {
      expect((await call(closed, 'GET', '/docs/json', { key: null })).status).toBe(404);
      expectUnauthenticated(await call(closed, 'GET', '/v1/warehouses'));
      expect((await call(closed, 'GET', '/health/ready', { key: null })).status).toBe(200);
    } finally {
      await closed.close();
    }
  });
});
