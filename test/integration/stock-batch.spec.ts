import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, signedCall, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// POST /v1/stock/batch and GET /v1/warehouses/{id}/stock on one region in-process, against its
// own databases on the real PostgreSQL (two databases, 16 shards: a batch spans both).
let region: TestRegion;
const W = 'bat-1';
const W2 = 'bat-2';

interface RowResult {
  index: number;
  warehouseId: string;
  sku: string;
  status: number;
  replayed: boolean;
  level?: { onHand: number; reserved: number; available: number; version: number; movementId: string; delta: number; region: string };
  problem?: { code: string; status: number; [k: string]: unknown };
}
interface BatchAnswer {
  summary: { rows: number; succeeded: number; failed: number; replayed: number; forwarded: number };
  results: RowResult[];
}
interface Page {
  warehouseId: string;
  region: string;
  source: string;
  servedBy: string;
  items: { sku: string; onHand: number; version: number }[];
  nextCursor: string | null;
  next: string | null;
}

const batch = (rows: unknown[], headers: Record<string, string> = {}, key?: string | null) =>
  call<BatchAnswer>(region, 'POST', '/v1/stock/batch', { body: { rows }, headers, key });
const row = (sku: string, warehouse = W) =>
  call<{ onHand: number; version: number }>(region, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`);
const ledger = async (sku: string, warehouse = W) =>
  (
    await call<{ items: { kind: string; delta: number; reason: string; version: number }[] }>(
      region,
      'GET',
      `/v1/warehouses/${warehouse}/stock/${sku}/movements`,
    )
  ).body.items;

/** Rows summed over every database of the region. */
async function count(sql: string, params: unknown[]): Promise<number> {
  let total = 0;
  for (const db of region.config.region.databases) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      total += Number((await client.query<{ n: string }>(sql, params)).rows[0].n);
    } finally {
      await client.end();
    }
  }
  return total;
}
const outboxEvents = (warehouse: string, sku: string) =>
  count(`SELECT count(*) AS n FROM outbox WHERE compact_key = $1`, [`${warehouse}/${sku}`]);

beforeAll(async () => {
  region = await startTestRegion('stockbatch');
  for (const id of [W, W2]) {
    expect((await call(region, 'PUT', `/v1/warehouses/${id}`, { body: { region: 'us-east', name: id } })).status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('POST /v1/stock/batch', () => {
  it('applies counts and adjustments of many rows across databases, each like a single write', async () => {
    const skus = Array.from({ length: 40 }, (_, i) => `B-${i}`);
    const first = await batch(skus.map((sku, i) => ({ warehouseId: W, sku, op: 'set', quantity: 10 + i })));
    expect(first.status).toBe(200);
    expect(first.body.summary).toEqual({ rows: 40, succeeded: 40, failed: 0, replayed: 0, forwarded: 0 });
    expect(first.body.results.map((r) => [r.index, r.sku, r.status, r.level?.onHand, r.level?.version])).toEqual(
      skus.map((sku, i) => [i, sku, 200, 10 + i, 1]),
    );
    const second = await batch([
      { warehouseId: W, sku: 'B-0', op: 'adjust', delta: 5, reason: 'received' },
      { warehouseId: W, sku: 'B-1', op: 'set', quantity: 3, reason: 'cycle-count' },
      { warehouseId: W2, sku: 'B-0', op: 'adjust', delta: 2, reason: 'found' },
    ]);
    expect(second.status).toBe(200);
    expect(second.body.results.map((r) => [r.status, r.level?.onHand, r.level?.version, r.level?.delta])).toEqual([
      [201, 15, 2, 5],
      [200, 3, 2, -8],
      [201, 2, 1, 2],
    ]);
    expect((await row('B-0')).body).toMatchObject({ onHand: 15, version: 2 });
    expect((await ledger('B-1')).map((m) => [m.kind, m.delta, m.reason, m.version])).toEqual([
      ['set', -8, 'cycle-count', 2],
      ['set', 11, 'cycle-count', 1],
    ]);
    // One stock.changed event per change, in the outbox like a single write's.
    expect(await outboxEvents(W, 'B-0')).toBe(2);
    expect(await outboxEvents(W, 'B-39')).toBe(1);
    expect(await outboxEvents(W2, 'B-0')).toBe(1);
  });

  it('refuses a malformed batch as a whole (400) and changes nothing', async () => {
    const cases: [unknown, string][] = [
      [{ rows: [] }, 'rows'],
      [{ rows: Array.from({ length: 1001 }, (_, i) => ({ warehouseId: W, sku: `M-${i}`, op: 'set', quantity: 1 })) }, 'rows'],
      [
        {
          rows: [
            { warehouseId: W, sku: 'M-1', op: 'set', quantity: 1 },
            { warehouseId: W, sku: 'M-2', op: 'set', quantity: -1 },
          ],
        },
        'rows.1.quantity',
      ],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'set', quantity: 1_000_000_001 }] }, 'rows.0.quantity'],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'adjust', delta: 0, reason: 'found' }] }, 'rows.0.delta'],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'adjust', delta: 1 }] }, 'rows.0.reason'],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'set', quantity: 1, delta: 1 }] }, 'rows.0.delta'],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'set', quantity: 1, reason: 'damaged' }] }, 'rows.0.reason'],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'count', quantity: 1 }] }, 'rows.0.op'],
      [{ rows: [{ warehouseId: 'bad id', sku: 'M-1', op: 'set', quantity: 1 }] }, 'rows.0.warehouseId'],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'set', quantity: 1, extra: true }] }, 'rows.0.extra'],
      [{ rows: [{ warehouseId: W, sku: 'M-1', op: 'set', quantity: 1, idempotencyKey: 'has space' }] }, 'rows.0.idempotencyKey'],
      [
        {
          rows: [
            { warehouseId: W, sku: 'M-1', op: 'set', quantity: 1 },
            { warehouseId: W, sku: 'M-1', op: 'adjust', delta: 1, reason: 'found' },
          ],
        },
        'rows.1.sku',
      ],
      [
        {
          rows: [
            { warehouseId: W, sku: 'M-1', op: 'set', quantity: 1, idempotencyKey: 'k1' },
            { warehouseId: W, sku: 'M-2', op: 'set', quantity: 1, idempotencyKey: 'k1' },
          ],
        },
        'rows.1.idempotencyKey',
      ],
    ];
    for (const [body, field] of cases) {
      const answer = await call<{ code: string; errors: { field: string }[] }>(region, 'POST', '/v1/stock/batch', { body });
      expect([field, answer.status, answer.body.code]).toEqual([field, 400, 'validation-failed']);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body.errors.map((e) => e.field)).toContain(field);
    }
    const badKey = await batch([{ warehouseId: W, sku: 'M-1', op: 'set', quantity: 1 }], { 'idempotency-key': 'has space' });
    expect([badKey.status, (badKey.body as unknown as { code: string }).code]).toEqual([400, 'idempotency-key-invalid']);
    expect((await row('M-1')).status).toBe(404);
    expect(await count(`SELECT count(*) AS n FROM stock_movements WHERE sku LIKE 'M-%'`, [])).toBe(0);
  });

  it('accepts 1,000 rows in one body, above the general body limit', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      warehouseId: W2,
      sku: `BIG-${String(i).padStart(5, '0')}`,
      op: 'set',
      quantity: i,
      idempotencyKey: randomUUID(),
    }));
    expect(JSON.stringify({ rows }).length).toBeGreaterThan(region.config.http.bodyLimitBytes);
    const answer = await batch(rows);
    expect(answer.status).toBe(200);
    expect(answer.body.summary.succeeded).toBe(1000);
    const tooBig = await call(region, 'PUT', `/v1/warehouses/${W}/stock/X`, {
      rawBody: JSON.stringify({ onHand: 1, pad: 'x'.repeat(70_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(tooBig.status).toBe(413);
  });

  it('reports each refused row with its problem (207), applies the others, and refused rows leave no trace', async () => {
    await batch([{ warehouseId: W, sku: 'P-1', op: 'set', quantity: 5 }]);
    const answer = await batch([
      { warehouseId: W, sku: 'P-1', op: 'adjust', delta: -6, reason: 'damaged' },
      { warehouseId: W, sku: 'P-2', op: 'set', quantity: 7 },
      { warehouseId: 'nowhere-9', sku: 'P-3', op: 'set', quantity: 1 },
      { warehouseId: W, sku: 'P-4', op: 'adjust', delta: -1, reason: 'lost' },
      { warehouseId: W2, sku: 'B-0', op: 'adjust', delta: 1_000_000_000, reason: 'received' },
      { warehouseId: W2, sku: 'P-6', op: 'adjust', delta: 4, reason: 'found' },
    ]);
    expect(answer.status).toBe(207);
    expect(answer.body.summary).toEqual({ rows: 6, succeeded: 2, failed: 4, replayed: 0, forwarded: 0 });
    expect(answer.body.results.map((r) => [r.sku, r.status, r.problem?.code ?? null])).toEqual([
      ['P-1', 409, 'insufficient-stock'],
      ['P-2', 200, null],
      ['P-3', 404, 'warehouse-not-found'],
      ['P-4', 409, 'insufficient-stock'],
      ['B-0', 409, 'quantity-limit-exceeded'],
      ['P-6', 201, null],
    ]);
    expect(answer.body.results[0].problem).toMatchObject({
      type: 'https://stockmesh.dev/problems/insufficient-stock',
      status: 409,
      onHand: 5,
      requestedOnHand: -1,
    });
    expect((await row('P-1')).body).toMatchObject({ onHand: 5, version: 1 });
    expect((await ledger('P-1')).length).toBe(1);
    expect(await outboxEvents(W, 'P-1')).toBe(1);
    // Rows that did not exist and were refused are not created, not even empty.
    expect(await count(`SELECT count(*) AS n FROM stock WHERE sku IN ('P-3', 'P-4')`, [])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM outbox WHERE compact_key IN ('${W}/P-4', 'nowhere-9/P-3')`, [])).toBe(0);
    expect((await row('B-0', W2)).body).toMatchObject({ onHand: 2, version: 1 });
    expect((await row('P-2')).body).toMatchObject({ onHand: 7, version: 1 });
    expect((await row('P-6', W2)).body).toMatchObject({ onHand: 4, version: 1 });
  });

  it('replays each row for the same Idempotency-Key, in any order, and retries the rows that were refused', async () => {
    const key = randomUUID();
    const rows = [
      { warehouseId: W, sku: 'I-1', op: 'adjust', delta: 3, reason: 'received' },
      { warehouseId: W, sku: 'I-2', op: 'adjust', delta: -1, reason: 'lost' },
      { warehouseId: W2, sku: 'I-3', op: 'set', quantity: 9 },
    ];
    const first = await batch(rows, { 'idempotency-key': key });
    expect(first.status).toBe(207);
    expect(first.body.results.map((r) => r.status)).toEqual([201, 409, 200]);

    await call(region, 'PUT', `/v1/warehouses/${W}/stock/I-2`, { body: { onHand: 1 } });
    const again = await batch([rows[2], rows[1], rows[0]], { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.body.summary).toMatchObject({ succeeded: 3, failed: 0, replayed: 2 });
    const [i3, i2, i1] = again.body.results;
    expect(i1).toEqual({ ...first.body.results[0], index: 2, replayed: true });
    expect(i3).toEqual({ ...first.body.results[2], index: 0, replayed: true });
    // The refused row stored nothing under its key: now it applies.
    expect(i2).toMatchObject({ status: 201, replayed: false, level: { onHand: 0, version: 2 } });
    expect((await row('I-1')).body).toMatchObject({ onHand: 3, version: 1 });
    expect((await row('I-3', W2)).body).toMatchObject({ onHand: 9, version: 1 });

    const changed = await batch([{ ...rows[0], delta: 4 }], { 'idempotency-key': key });
    expect(changed.status).toBe(207);
    expect(changed.body.results[0]).toMatchObject({ status: 422, problem: { code: 'idempotency-key-reused' } });
    expect((await row('I-1')).body).toMatchObject({ onHand: 3, version: 1 });
  });

  it('keys rows by their own idempotencyKey, across requests', async () => {
    const rowKey = randomUUID();
    const once = { warehouseId: W, sku: 'K-1', op: 'adjust', delta: 2, reason: 'found', idempotencyKey: rowKey };
    const first = await batch([once, { warehouseId: W, sku: 'K-2', op: 'set', quantity: 1 }]);
    const second = await batch([{ warehouseId: W, sku: 'K-3', op: 'set', quantity: 1 }, once]);
    expect(first.body.results[0]).toMatchObject({ status: 201, replayed: false });
    expect(second.body.results[1]).toEqual({ ...first.body.results[0], index: 1, replayed: true });
    expect((await row('K-1')).body).toMatchObject({ onHand: 2, version: 1 });
  });

  it('makes each change exactly once for parallel requests with one key, and loses no update of rows shared by parallel batches', async () => {
    const key = randomUUID();
    const rows = Array.from({ length: 30 }, (_, i) => ({ warehouseId: W, sku: `C-${i}`, op: 'adjust', delta: 1, reason: 'found' }));
    const same = await Promise.all(Array.from({ length: 8 }, () => batch(rows, { 'idempotency-key': key })));
    expect(same.map((a) => a.status)).toEqual(new Array(8).fill(200));
    expect(same.reduce((n, a) => n + a.body.summary.replayed, 0)).toBe(30 * 7);
    // Unkeyed batches over the same rows, in different orders: each adds its delta once.
    const shuffled = await Promise.all(Array.from({ length: 8 }, (_, b) => batch(b % 2 === 0 ? rows : [...rows].reverse())));
    expect(shuffled.map((a) => a.status)).toEqual(new Array(8).fill(200));
    for (let i = 0; i < 30; i += 7) expect((await row(`C-${i}`)).body).toMatchObject({ onHand: 9, version: 9 });
  });
});

describe('rows of other regions', () => {
  // A warehouse this region's catalog lists under eu-west, as replication would have put it there;
  // eu-west itself does not run in this suite, so nothing answers at its internal listener.
  const FAR = 'far-1';
  beforeAll(async () => {
    const client = new pg.Client({ connectionString: region.config.region.databases[0].url });
    await client.connect();
    try {
      await client.query(`INSERT INTO warehouses (id, region, name) VALUES ($1, 'eu-west', 'Far away')`, [FAR]);
    } finally {
      await client.end();
    }
  });

  it('forwards them to their owner, and reports each as region-unavailable when it does not answer', async () => {
    const answer = await batch([
      { warehouseId: FAR, sku: 'F-1', op: 'set', quantity: 1 },
      { warehouseId: W, sku: 'F-2', op: 'set', quantity: 2 },
    ]);
    expect(answer.status).toBe(207);
    expect(answer.body.summary).toEqual({ rows: 2, succeeded: 1, failed: 1, replayed: 0, forwarded: 1 });
    expect(answer.body.results[0]).toMatchObject({ status: 503, problem: { code: 'region-unavailable', region: 'eu-west' } });
    expect(answer.body.results[1]).toMatchObject({ status: 200, level: { onHand: 2 } });
  });

  it('never forwards a forwarded batch again: a row it does not own is misdirected (421)', async () => {
    const answer = await signedCall<BatchAnswer>({ internalUrl: region.internalUrl, regionId: 'us-east' }, 'POST', '/v1/stock/batch', {
      forwarded: true,
      body: {
        rows: [
          { warehouseId: FAR, sku: 'F-3', op: 'set', quantity: 1 },
          { warehouseId: W, sku: 'F-4', op: 'set', quantity: 4 },
        ],
      },
    });
    expect(answer.status).toBe(207);
    expect(answer.body.results.map((r) => [r.status, r.problem?.code ?? null])).toEqual([
      [421, 'misdirected-request'],
      [200, null],
    ]);
    expect(answer.body.results[0].problem).toMatchObject({ owner: 'eu-west' });
    expect(answer.body.summary.forwarded).toBe(0);
  });
});

describe('scopes', () => {
  let readOnly: string;
  let catalogOnly: string;
  beforeAll(async () => {
    const make = async (name: string, scopes: string[]) =>
      (await call<{ key: string }>(region, 'POST', '/v1/api-keys', { body: { name, scopes } })).body.key;
    readOnly = await make('reader', ['stock:read']);
    catalogOnly = await make('cataloguer', ['catalog:write']);
  });

  it('needs an API key (401) and stock:write for a batch (403), and changes nothing then', async () => {
    const rows = [{ warehouseId: W, sku: 'S-1', op: 'set', quantity: 1 }];
    const anonymous = await batch(rows, {}, null);
    expect([anonymous.status, (anonymous.body as unknown as { code: string }).code]).toEqual([401, 'unauthenticated']);
    const reader = await batch(rows, {}, readOnly);
    expect(reader.status).toBe(403);
    expect(reader.body).toMatchObject({ code: 'insufficient-scope', scope: 'stock:write' });
    expect((await row('S-1')).status).toBe(404);
  });

  it('needs stock:read to page', async () => {
    expect((await call(region, 'GET', `/v1/warehouses/${W}/stock`, { key: null })).status).toBe(401);
    const refused = await call(region, 'GET', `/v1/warehouses/${W}/stock`, { key: catalogOnly });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'insufficient-scope', scope: 'stock:read' });
    expect((await call(region, 'GET', `/v1/warehouses/${W}/stock`, { key: readOnly })).status).toBe(200);
  });
});

describe('GET /v1/warehouses/{id}/stock', () => {
  const PW = 'page-1';
  beforeAll(async () => {
    expect((await call(region, 'PUT', `/v1/warehouses/${PW}`, { body: { region: 'us-east', name: PW } })).status).toBe(201);
    // Mixed case and punctuation, to check the order is byte order across both databases.
    const skus = Array.from({ length: 250 }, (_, i) => `${['a', 'B', 'c_', 'D.', 'e-'][i % 5]}${String(i).padStart(3, '0')}`);
    expect((await batch(skus.map((sku) => ({ warehouseId: PW, sku, op: 'set', quantity: 1 })))).status).toBe(200);
  });

  it('pages through every row once, by SKU, while writes go on', async () => {
    const before = new Set((await call<Page>(region, 'GET', `/v1/warehouses/${PW}/stock?limit=1000`)).body.items.map((i) => i.sku));
    expect(before.size).toBe(250);
    const seen: string[] = [];
    let writes = 0;
    let path: string | null = `/v1/warehouses/${PW}/stock?limit=17`;
    while (path !== null) {
      const page: { status: number; body: Page } = await call<Page>(region, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ warehouseId: PW, region: 'us-east', source: 'owner', servedBy: 'us-east' });
      expect(page.body.items.length).toBeLessThanOrEqual(17);
      seen.push(...page.body.items.map((i) => i.sku));
      // Between pages: change existing rows, add new ones before and after the cursor.
      const changed = await batch([
        { warehouseId: PW, sku: [...before][writes % 250], op: 'adjust', delta: 1, reason: 'found' },
        { warehouseId: PW, sku: `0new${writes}`, op: 'set', quantity: 1 },
        { warehouseId: PW, sku: `znew${writes}`, op: 'set', quantity: 1 },
      ]);
      expect(changed.status).toBe(200);
      writes++;
      path = page.body.next;
      if (path !== null) expect(path).toContain(`cursor=${page.body.nextCursor}`);
    }
    const sorted = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(seen).toEqual(sorted);
    expect(new Set(seen).size).toBe(seen.length);
    for (const sku of before) expect(seen).toContain(sku);
    // Rows added after the cursor had passed their place are seen; those added before it are not.
    expect(seen.filter((s) => s.startsWith('0new'))).toEqual([]);
    expect(seen.filter((s) => s.startsWith('znew')).length).toBeGreaterThan(0);
  });

  it('ends with a null cursor on the last page, also when it is exactly full', async () => {
    const SW = 'page-2';
    expect((await call(region, 'PUT', `/v1/warehouses/${SW}`, { body: { region: 'us-east', name: SW } })).status).toBe(201);
    const skus = ['s1', 's2', 's3', 's4', 's5', 's6', 's7'];
    expect((await batch(skus.map((sku) => ({ warehouseId: SW, sku, op: 'set', quantity: 1 })))).status).toBe(200);
    const all = await call<Page>(region, 'GET', `/v1/warehouses/${SW}/stock?limit=1000`);
    expect(all.body.items.map((i) => i.sku)).toEqual(skus);
    const total = all.body.items.length;
    expect(all.body.nextCursor).toBeNull();
    const exact = await call<Page>(region, 'GET', `/v1/warehouses/${SW}/stock?limit=${total}`);
    expect(exact.body.items.length).toBe(total);
    expect(exact.body.nextCursor).toBeNull();
    const short = await call<Page>(region, 'GET', `/v1/warehouses/${SW}/stock?limit=${total - 1}`);
    expect(short.body.nextCursor).not.toBeNull();
    const rest = await call<Page>(region, 'GET', short.body.next as string);
    expect(rest.body.items.map((i) => i.sku)).toEqual([all.body.items[total - 1].sku]);
  });

  it('answers 404 for an unknown warehouse and 400 for bad paging', async () => {
    const unknown = await call(region, 'GET', '/v1/warehouses/nowhere-9/stock');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'warehouse-not-found']);
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=x',
      'cursor=not%20a%20cursor',
      `cursor=${Buffer.from('{"after":"a b"}').toString('base64url')}`,
    ]) {
      const bad = await call(region, 'GET', `/v1/warehouses/${W}/stock?${query}`);
      expect([query, bad.status, bad.body.code]).toEqual([query, 400, 'validation-failed']);
    }
  });
});
