import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, newEvent, TOPICS, toKafkaRecord, type TransferData } from '@stockmesh/contracts';
import { Replicator } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import { call, numberedMessages, signedCall, startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';
import { MAX_RETURN_ATTEMPTS, TransferReconciler } from '@stockmesh/transfers';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// Transfers served by one in-process region (us-east) on the real PostgreSQL, replication off:
// events stay in the outbox, where the tests read them. The other regions' side of a transfer is
// played by feeding records to the region's own Replicator, as Kafka would deliver them. Ending
// transfers needs the destination to answer: there, eu-west runs in-process too (same cluster,
// on the ports its configuration names) and is fed its events the same way; ap-south never runs.
let region: TestRegion;
const basePort = 24_000 + Math.floor(Math.random() * 1_000) * 4;
const key = (): Record<string, string> => ({ 'idempotency-key': randomUUID() });
const transfer = (body: unknown, headers: Record<string, string> = key()) => call(region, 'POST', '/v1/transfers', { body, headers });

interface Transfer {
  id: string;
  sku: string;
  fromWarehouseId: string;
  fromRegion: string;
  toWarehouseId: string;
  toRegion: string;
  quantity: number;
  status: 'pending' | 'completed' | 'returned';
}
interface Movement {
  kind: string;
  delta: number;
  reason: string;
  actor: string;
  requestId: string | null;
  idempotencyKey: string | null;
}

const shard = (sku: string): number => shardOf(sku, region.config.cluster.shardCount);

async function sql<T extends pg.QueryResultRow>(sku: string, text: string, params: unknown[] = [], at = region): Promise<T[]> {
  const client = new pg.Client({ connectionString: at.config.shardMap.databaseFor(shard(sku)).url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function row(warehouse: string, sku: string, at = region): Promise<{ onHand: number; reserved: number; version: number }> {
  const answer = await call<{ onHand: number; reserved: number; version: number }>(at, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`);
  return answer.status === 200 ? answer.body : { onHand: 0, reserved: 0, version: 0 };
}

const ledger = async (warehouse: string, sku: string, at = region): Promise<Movement[]> =>
  (await call<{ items: Movement[] }>(at, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}/movements`)).body.items;

/** The outbox of the SKU's database, for this SKU: what the relay would publish. */
const outbox = (sku: string) =>
  sql<{ topic: string; partition: number; key: string; type: string; value: string }>(
    sku,
    `SELECT topic, partition, key, headers->>'ce_type' AS type, value FROM outbox
     WHERE key = $1 OR value::jsonb->>'sku' = $1 ORDER BY seq`,
    [sku],
  );

const offsets = new Map<string, bigint>();
/** Delivers records to a region's replicator (us-east unless named) as one Kafka batch of `topic`/`partition`. */
async function deliver(topic: string, partition: number, records: ReturnType<typeof toKafkaRecord>[], to = region): Promise<void> {
  const messages = numberedMessages(offsets, topic, partition, records, to.config.region.id);
  const next = BigInt(messages.at(-1)!.offset) + 1n;
  await to.app.get(Replicator).apply({ topic, partition, messages, highWatermark: String(next) });
}

function dispatched(t: TransferData, source = t.fromRegion): ReturnType<typeof toKafkaRecord> {
  const time = new Date().toISOString();
  const event = newEvent({
    source,
    type: EVENT_TYPES.transferDispatched,
    time,
    subject: `transfers/${t.transferId}`,
    data: { ...t, dispatchedAt: time },
  });
  return toKafkaRecord(event, t.transferId);
}

function received(t: Transfer, outcome: 'received' | 'refused'): ReturnType<typeof toKafkaRecord> {
  const time = new Date().toISOString();
  const data = { ...dataOf(t), outcome, receivedAt: time };
  return toKafkaRecord(
    newEvent({ source: t.toRegion, type: EVENT_TYPES.transferReceived, time, subject: `transfers/${t.id}`, data }),
    t.id,
  );
}

function dataOf(t: Transfer): TransferData {
  const { id, sku, fromWarehouseId, fromRegion, toWarehouseId, toRegion, quantity } = t;
  return { transferId: id, sku, shard: shard(sku), fromWarehouseId, fromRegion, toWarehouseId, toRegion, quantity };
}

/** A warehouse of another region, as its catalog event would bring it here. */
async function remoteWarehouse(id: string, owner: string, at = region): Promise<void> {
  const time = new Date().toISOString();
  const data = { id, region: owner, name: id, latitude: null, longitude: null, version: 1, createdAt: time, updatedAt: time };
  await deliver(
    TOPICS.catalog,
    0,
    [toKafkaRecord(newEvent({ source: owner, type: EVENT_TYPES.warehouseChanged, time, subject: `warehouses/${id}`, data }), id)],
    at,
  );
}

/** Another region's row, as its stock event would bring it here. */
async function remoteRow(warehouseId: string, owner: string, sku: string, onHand: number): Promise<void> {
  const time = new Date().toISOString();
  const data = {
    warehouseId,
    sku,
    region: owner,
    shard: shard(sku),
    onHand,
    reserved: 0,
    version: 1,
    updatedAt: time,
    cause: { kind: 'set', delta: onHand, reason: 'cycle-count', movementId: randomUUID(), actor: 'test' },
  };
  await deliver(TOPICS.stock, shard(sku), [
    toKafkaRecord(
      newEvent({ source: owner, type: EVENT_TYPES.stockChanged, time, subject: `warehouses/${warehouseId}/stock/${sku}`, data }),
      sku,
    ),
  ]);
}

/** Two SKUs whose shards live in different databases of the region. */
function skusInTwoDatabases(): [string, string] {
  const first = 'SKU-KEY-0';
  const home = region.config.shardMap.databaseFor(shard(first)).name;
  for (let i = 1; ; i++) {
    const other = `SKU-KEY-${i}`;
    if (region.config.shardMap.databaseFor(shard(other)).name !== home) return [first, other];
  }
}

beforeAll(async () => {
  region = await startTestRegion('transfer', { STOCKMESH_BASE_PORT: String(basePort) }, { port: basePort });
  for (const w of ['nyc-1', 'nyc-2']) {
    expect((await call(region, 'PUT', `/v1/warehouses/${w}`, { body: { region: 'us-east', name: w } })).status).toBe(201);
  }
  // Every transfer event is checked against the catalog: it names only warehouses known here.
  await remoteWarehouse('fra-1', 'eu-west');
  await remoteWarehouse('dub-1', 'eu-west');
  await remoteWarehouse('bom-1', 'ap-south');
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('transfers within one region', () => {
  it('moves the units in one transaction and completes at once', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-S', { body: { onHand: 10 } });
    const made = await transfer({ sku: 'SKU-S', fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 4 }, key());
    expect(made.status).toBe(201);
    const t = made.body as unknown as Transfer;
    expect(t).toMatchObject({
      sku: 'SKU-S',
      fromWarehouseId: 'nyc-1',
      fromRegion: 'us-east',
      toWarehouseId: 'nyc-2',
      toRegion: 'us-east',
      quantity: 4,
      status: 'completed',
    });
    expect(t.id).toMatch(/^us-east\.[0-9a-f-]{36}$/);
    expect(await row('nyc-1', 'SKU-S')).toMatchObject({ onHand: 6 });
    expect(await row('nyc-2', 'SKU-S')).toMatchObject({ onHand: 4, version: 1 });
    const [out] = await ledger('nyc-1', 'SKU-S');
    const [into] = await ledger('nyc-2', 'SKU-S');
    expect(out).toMatchObject({ kind: 'transfer-out', delta: -4, reason: 'transfer', actor: 'key bootstrap (STOCKMESH_ADMIN_KEY)' });
    expect(into).toMatchObject({
      kind: 'transfer-in',
      delta: 4,
      reason: 'transfer',
      actor: 'key bootstrap (STOCKMESH_ADMIN_KEY)',
      requestId: out.requestId,
    });
    expect((await call(region, 'GET', `/v1/transfers/${t.id}`)).body).toMatchObject({ id: t.id, status: 'completed' });

    // Both rows' stock events and both transfer events, on the SKU's shard; transfers keyed by id.
    const events = await outbox('SKU-S');
    expect(events.map((e) => [e.topic, e.type])).toEqual([
      [TOPICS.stock, EVENT_TYPES.stockChanged],
      [TOPICS.stock, EVENT_TYPES.stockChanged],
      [TOPICS.stock, EVENT_TYPES.stockChanged],
      [TOPICS.transfers, EVENT_TYPES.transferDispatched],
      [TOPICS.transfers, EVENT_TYPES.transferReceived],
    ]);
    for (const e of events) expect(e.partition).toBe(shard('SKU-S'));
    for (const e of events.filter((e) => e.topic === TOPICS.transfers)) {
      expect(e.key).toBe(t.id);
      expect(JSON.parse(e.value)).toMatchObject({ ...dataOf(t) });
    }
  });

  it('lists its transfers newest first, page by page across its databases, and by status', async () => {
    const skus = ['SKU-L1', 'SKU-L2', 'SKU-L3', 'SKU-L4'];
    // Spread over both databases, so that pages merge them.
    expect(new Set(skus.map((s) => region.config.shardMap.databaseFor(shard(s)).name)).size).toBe(2);
    const made: string[] = [];
    for (const sku of skus) {
      await call(region, 'PUT', `/v1/warehouses/nyc-1/stock/${sku}`, { body: { onHand: 5 } });
      made.push(((await transfer({ sku, fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 1 })).body as unknown as Transfer).id);
    }
    type Page = { items: (Transfer & { createdAt: string })[]; nextCursor: string | null; next: string | null };
    const all: (Transfer & { createdAt: string })[] = [];
    let path: string | null = '/v1/transfers?limit=2';
    while (path !== null) {
      const page: { status: number; body: Page } = await call<Page>(region, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      all.push(...page.body.items);
      path = page.body.next;
    }
    expect(new Set(all.map((t) => t.id)).size).toBe(all.length);
    const times = all.map((t) => Date.parse(t.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.map((t) => t.id).filter((id) => made.includes(id))).toEqual([...made].reverse());
    const first = await call<Page>(region, 'GET', '/v1/transfers?limit=500');
    expect(first.body.items.map((t) => t.id)).toEqual(all.map((t) => t.id));
    expect(first.body.nextCursor).toBeNull();
    const pending = await call<Page>(region, 'GET', '/v1/transfers?status=pending&limit=500');
    expect(pending.body.items.every((t) => t.status === 'pending')).toBe(true);
    expect(pending.body.items.map((t) => t.id)).toEqual(all.filter((t) => t.status === 'pending').map((t) => t.id));
    for (const bad of ['status=lost', 'limit=0', 'limit=501', 'limit=two', 'cursor=bm90LWEtY3Vyc29y', 'cursor=a%20b']) {
      const answer = await call(region, 'GET', `/v1/transfers?${bad}`);
      expect({ bad, status: answer.status, code: answer.body.code }).toEqual({ bad, status: 400, code: 'validation-failed' });
    }
  });

  it('makes one transfer for a key sent twice, and for 20 parallel requests with one key', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-IDEM', { body: { onHand: 100 } });
    const body = { sku: 'SKU-IDEM', fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 3 };
    const headers = key();
    const first = await transfer(body, headers);
    const again = await transfer(body, headers);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);

    const parallelKey = key();
    const answers = await Promise.all(Array.from({ length: 20 }, () => transfer(body, parallelKey)));
    expect(answers.map((a) => a.status)).toEqual(new Array(20).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(19);

    expect(await row('nyc-1', 'SKU-IDEM')).toMatchObject({ onHand: 94 });
    expect(await row('nyc-2', 'SKU-IDEM')).toMatchObject({ onHand: 6 });
    expect((await ledger('nyc-1', 'SKU-IDEM')).filter((m) => m.kind === 'transfer-out')).toHaveLength(2);
    const [{ n }] = await sql<{ n: string }>('SKU-IDEM', `SELECT count(*) AS n FROM transfers WHERE sku = 'SKU-IDEM'`);
    expect(Number(n)).toBe(2);

    const other = await transfer({ ...body, quantity: 4 }, headers);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'idempotency-key-reused' });
  });

  it('refuses a key reused for another SKU, whichever database holds that SKU', async () => {
    const [a, b] = skusInTwoDatabases();
    for (const sku of [a, b]) await call(region, 'PUT', `/v1/warehouses/nyc-1/stock/${sku}`, { body: { onHand: 5 } });
    const headers = key();
    expect((await transfer({ sku: a, fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 1 }, headers)).status).toBe(201);
    const reused = await transfer({ sku: b, fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 1 }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'idempotency-key-reused' });
    expect(await row('nyc-1', b)).toMatchObject({ onHand: 5 });
  });

  it('refuses to take reserved or missing units (409), changes nothing, and lets the key be retried', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-I', { body: { onHand: 10 } });
    const held = await call(region, 'POST', '/v1/reservations', {
      body: { lines: [{ sku: 'SKU-I', quantity: 8, warehouseId: 'nyc-1' }] },
      headers: key(),
    });
    expect(held.status).toBe(201);
    const before = {
      row: await row('nyc-1', 'SKU-I'),
      ledger: (await ledger('nyc-1', 'SKU-I')).length,
      outbox: (await outbox('SKU-I')).length,
    };
    const headers = key();
    const body = { sku: 'SKU-I', fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 3 };
    const refused = await transfer(body, headers);
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'insufficient-stock', requested: 3, available: 2 });
    expect(await row('nyc-1', 'SKU-I')).toEqual(before.row);
    expect((await row('nyc-2', 'SKU-I')).version).toBe(0);
    expect(await ledger('nyc-1', 'SKU-I')).toHaveLength(before.ledger);
    expect(await outbox('SKU-I')).toHaveLength(before.outbox);
    expect(await sql('SKU-I', `SELECT 1 FROM transfers WHERE sku = 'SKU-I'`)).toHaveLength(0);
    expect((await transfer({ ...body, sku: 'SKU-NONE' })).body).toMatchObject({ code: 'insufficient-stock', available: 0 });

    await call(region, 'POST', '/v1/warehouses/nyc-1/stock/SKU-I/adjustments', { body: { delta: 1, reason: 'found' } });
    const retried = await transfer(body, headers);
    expect(retried.status).toBe(201);
    expect(await row('nyc-1', 'SKU-I')).toMatchObject({ onHand: 8, reserved: 8 });
  });

  it('lets transfers in opposite directions run at once without deadlock or loss', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-X', { body: { onHand: 50 } });
    await call(region, 'PUT', '/v1/warehouses/nyc-2/stock/SKU-X', { body: { onHand: 50 } });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        transfer({
          sku: 'SKU-X',
          fromWarehouseId: i % 2 ? 'nyc-1' : 'nyc-2',
          toWarehouseId: i % 2 ? 'nyc-2' : 'nyc-1',
          quantity: 1 + (i % 3),
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(new Array(30).fill(201));
    expect((await row('nyc-1', 'SKU-X')).onHand + (await row('nyc-2', 'SKU-X')).onHand).toBe(100);
  });
});

describe('bad transfer requests', () => {
  const body = { sku: 'SKU-S', fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 1 };
  it.each([
    ['no Idempotency-Key', body, {}, 400, 'idempotency-key-required', undefined],
    ['a zero quantity', { ...body, quantity: 0 }, key(), 400, 'validation-failed', 'quantity'],
    ['a negative quantity', { ...body, quantity: -5 }, key(), 400, 'validation-failed', 'quantity'],
    ['a fractional quantity', { ...body, quantity: 0.5 }, key(), 400, 'validation-failed', 'quantity'],
    ['a huge quantity', { ...body, quantity: 1e12 }, key(), 400, 'validation-failed', 'quantity'],
    ['a quantity as a string', { ...body, quantity: '1' }, key(), 400, 'validation-failed', 'quantity'],
    ['the same warehouse twice', { ...body, toWarehouseId: 'nyc-1' }, key(), 400, 'validation-failed', 'toWarehouseId'],
    ['an unknown source', { ...body, fromWarehouseId: 'nowhere-1' }, key(), 404, 'warehouse-not-found', undefined],
    ['an unknown destination', { ...body, toWarehouseId: 'nowhere-2' }, key(), 404, 'warehouse-not-found', undefined],
    ['an injected SKU', { ...body, sku: "SKU'; DROP TABLE stock;--" }, key(), 400, 'validation-failed', 'sku'],
    ['an injected source', { ...body, fromWarehouseId: "nyc-1' OR '1'='1" }, key(), 400, 'validation-failed', 'fromWarehouseId'],
    ['an injected destination', { ...body, toWarehouseId: '../../etc/passwd' }, key(), 400, 'validation-failed', 'toWarehouseId'],
    ['a missing SKU', { ...body, sku: undefined }, key(), 400, 'validation-failed', 'sku'],
    ['an unknown field', { ...body, priority: 'high' }, key(), 400, 'validation-failed', 'priority'],
    ['a body that is an array', [body], key(), 400, 'validation-failed', undefined],
  ])('refuses %s', async (_, payload, headers, status, code, field) => {
    const answer = await transfer(payload, headers as Record<string, string>);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ code, status });
    if (field) expect((answer.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
  });

  it('refuses a body that is not JSON', async () => {
    const answer = await call(region, 'POST', '/v1/transfers', {
      rawBody: '{"sku": "SKU-S",',
      headers: { ...key(), 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'malformed-json' });
  });

  it('answers 404 transfer-not-found for ids that do not exist or are malformed', async () => {
    for (const id of [`us-east.${randomUUID()}`, 'not-an-id', `mars-1.${randomUUID()}`, "us-east.x' OR 1=1"]) {
      const answer = await call(region, 'GET', `/v1/transfers/${encodeURIComponent(id)}`);
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ code: 'transfer-not-found' });
    }
  });
});

describe('transfers across regions, as this region applies them', () => {
  it('keeps a transfer to another region pending, then completes it once on its receipt', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-C', { body: { onHand: 20 } });
    const made = await transfer({ sku: 'SKU-C', fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 8 });
    expect(made.status).toBe(201);
    const t = made.body as unknown as Transfer;
    expect(t).toMatchObject({ status: 'pending', toRegion: 'eu-west' });
    expect(await row('nyc-1', 'SKU-C')).toMatchObject({ onHand: 12 });
    expect((await outbox('SKU-C')).filter((e) => e.topic === TOPICS.transfers).map((e) => e.type)).toEqual([
      EVENT_TYPES.transferDispatched,
    ]);
    expect((await call(region, 'GET', `/v1/transfers/${t.id}`)).body).toMatchObject({ status: 'pending' });

    await deliver(TOPICS.transfers, shard('SKU-C'), [received(t, 'received')]);
    expect((await call(region, 'GET', `/v1/transfers/${t.id}`)).body).toMatchObject({ status: 'completed' });
    await deliver(TOPICS.transfers, shard('SKU-C'), [received(t, 'received'), received(t, 'refused')]);
    expect((await call(region, 'GET', `/v1/transfers/${t.id}`)).body).toMatchObject({ status: 'completed' });
    expect(await row('nyc-1', 'SKU-C')).toMatchObject({ onHand: 12 });
  });

  it('puts refused units back into the source, once', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-RET', { body: { onHand: 9 } });
    const t = (await transfer({ sku: 'SKU-RET', fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 9 }))
      .body as unknown as Transfer;
    expect(await row('nyc-1', 'SKU-RET')).toMatchObject({ onHand: 0 });
    await deliver(TOPICS.transfers, shard('SKU-RET'), [received(t, 'refused'), received(t, 'refused')]);
    expect((await call(region, 'GET', `/v1/transfers/${t.id}`)).body).toMatchObject({ status: 'returned' });
    expect(await row('nyc-1', 'SKU-RET')).toMatchObject({ onHand: 9 });
    expect((await ledger('nyc-1', 'SKU-RET')).map((m) => [m.kind, m.delta])).toEqual([
      ['transfer-return', 9],
      ['transfer-out', -9],
      ['set', 9],
    ]);
  });

  it('adds the units of a transfer dispatched here exactly once, and says so', async () => {
    const t: TransferData = {
      transferId: `eu-west.${randomUUID()}`,
      sku: 'SKU-IN',
      shard: shard('SKU-IN'),
      fromWarehouseId: 'fra-1',
      fromRegion: 'eu-west',
      toWarehouseId: 'nyc-2',
      toRegion: 'us-east',
      quantity: 7,
    };
    await deliver(TOPICS.transfers, t.shard, [dispatched(t)]);
    await deliver(TOPICS.transfers, t.shard, [dispatched(t), dispatched(t)]);
    expect(await row('nyc-2', 'SKU-IN')).toMatchObject({ onHand: 7, version: 1 });
    expect(await ledger('nyc-2', 'SKU-IN')).toEqual([
      expect.objectContaining({ kind: 'transfer-in', delta: 7, actor: `transfer:${t.transferId}` }),
    ]);
    const answers = (await outbox('SKU-IN')).filter((e) => e.topic === TOPICS.transfers);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ type: EVENT_TYPES.transferReceived, key: t.transferId, partition: t.shard });
    expect(JSON.parse(answers[0].value)).toMatchObject({ ...t, outcome: 'received' });
  });

  it('ignores transfers between other regions, and its own events', async () => {
    const elsewhere: TransferData = {
      transferId: `eu-west.${randomUUID()}`,
      sku: 'SKU-ELSE',
      shard: shard('SKU-ELSE'),
      fromWarehouseId: 'fra-1',
      fromRegion: 'eu-west',
      toWarehouseId: 'bom-1',
      toRegion: 'ap-south',
      quantity: 2,
    };
    const own = {
      ...elsewhere,
      transferId: `us-east.${randomUUID()}`,
      fromRegion: 'us-east',
      fromWarehouseId: 'nyc-1',
      toWarehouseId: 'nyc-2',
      toRegion: 'us-east',
    };
    await deliver(TOPICS.transfers, elsewhere.shard, [dispatched(elsewhere), dispatched(own)]);
    expect(await sql('SKU-ELSE', `SELECT 1 FROM transfer_receipts WHERE sku = 'SKU-ELSE'`)).toHaveLength(0);
    expect((await row('nyc-2', 'SKU-ELSE')).version).toBe(0);
  });

  it('refuses units the destination row cannot hold, and sends them back', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-2/stock/SKU-FULL', { body: { onHand: 999_999_995 } });
    const t: TransferData = {
      transferId: `eu-west.${randomUUID()}`,
      sku: 'SKU-FULL',
      shard: shard('SKU-FULL'),
      fromWarehouseId: 'fra-1',
      fromRegion: 'eu-west',
      toWarehouseId: 'nyc-2',
      toRegion: 'us-east',
      quantity: 10,
    };
    await deliver(TOPICS.transfers, t.shard, [dispatched(t)]);
    expect(await row('nyc-2', 'SKU-FULL')).toMatchObject({ onHand: 999_999_995, version: 1 });
    const [answer] = (await outbox('SKU-FULL')).filter((e) => e.topic === TOPICS.transfers);
    expect(JSON.parse(answer.value)).toMatchObject({ transferId: t.transferId, outcome: 'refused' });
    const [receipt] = await sql<{ outcome: string }>('SKU-FULL', `SELECT outcome FROM transfer_receipts WHERE transfer_id = $1`, [
      t.transferId,
    ]);
    expect(receipt.outcome).toBe('refused');
  });

  it('refuses units for a warehouse that is not its own', async () => {
    const t: TransferData = {
      transferId: `eu-west.${randomUUID()}`,
      sku: 'SKU-NOTMINE',
      shard: shard('SKU-NOTMINE'),
      fromWarehouseId: 'dub-1',
      fromRegion: 'eu-west',
      toWarehouseId: 'fra-1',
      toRegion: 'us-east',
      quantity: 3,
    };
    await deliver(TOPICS.transfers, t.shard, [dispatched(t)]);
    expect(await sql('SKU-NOTMINE', `SELECT 1 FROM stock WHERE sku = 'SKU-NOTMINE'`)).toHaveLength(0);
    const [answer] = (await outbox('SKU-NOTMINE')).filter((e) => e.topic === TOPICS.transfers);
    expect(JSON.parse(answer.value)).toMatchObject({ transferId: t.transferId, outcome: 'refused' });
  });

  it('refuses at once a transfer to a row known to be too full', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-BIG', { body: { onHand: 10 } });
    await remoteRow('fra-1', 'eu-west', 'SKU-BIG', 999_999_999);
    const refused = await transfer({ sku: 'SKU-BIG', fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 2 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'quantity-limit-exceeded', warehouseId: 'fra-1', onHand: 999_999_999 });
    expect(await row('nyc-1', 'SKU-BIG')).toMatchObject({ onHand: 10 });
  });
});

describe('ending transfers the destination has not received: cancel and reconciliation', () => {
  let euWest: TestRegion;
  const timeoutMs = (): number => region.config.transfers.timeoutMs;
  const cancel = (id: string, headers: Record<string, string> = {}, via = region) =>
    call<Transfer & { statusReason?: string }>(via, 'POST', `/v1/transfers/${encodeURIComponent(id)}/cancel`, { headers });
  const get = async (id: string) => (await call<Transfer & { statusReason?: string }>(region, 'GET', `/v1/transfers/${id}`)).body;
  const reconcile = (at: number) => region.app.get(TransferReconciler).reconcile(new Date(at));
  /** What the destination (eu-west) recorded for a transfer: its receipt's outcome, or nothing. */
  const receipt = async (t: Transfer): Promise<string | undefined> =>
    (await sql<{ outcome: string }>(t.sku, `SELECT outcome FROM transfer_receipts WHERE transfer_id = $1`, [t.id], euWest))[0]?.outcome;
  const transfersIn = async (t: Transfer): Promise<number> =>
    (await ledger(t.toWarehouseId, t.sku, euWest)).filter((m) => m.kind === 'transfer-in' && m.actor === `transfer:${t.id}`).length;
  const returns = async (t: Transfer): Promise<Movement[]> =>
    (await ledger(t.fromWarehouseId, t.sku)).filter((m) => m.kind === 'transfer-return');
  /** The dispatched event us-east wrote for `t`, delivered to eu-west (late, or racing). */
  const dispatchToEuWest = (t: Transfer): Promise<void> => deliver(TOPICS.transfers, shard(t.sku), [dispatched(dataOf(t))], euWest);
  async function pendingTransfer(sku: string, quantity: number, stock = 10, to = 'fra-1'): Promise<Transfer> {
    await call(region, 'PUT', `/v1/warehouses/nyc-1/stock/${sku}`, { body: { onHand: stock } });
    const made = await transfer({ sku, fromWarehouseId: 'nyc-1', toWarehouseId: to, quantity });
    expect(made.body).toMatchObject({ status: 'pending' });
    return made.body as unknown as Transfer;
  }

  beforeAll(async () => {
    euWest = await startTestRegion(
      'transfer_eu',
      { STOCKMESH_REGION: 'eu-west', STOCKMESH_BASE_PORT: String(basePort) },
      { port: basePort + 1 },
    );
    expect((await call(euWest, 'PUT', '/v1/warehouses/fra-1', { body: { region: 'eu-west', name: 'fra-1' } })).status).toBe(201);
    // A warehouse of ap-south, a region that never answers here.
    await remoteWarehouse('bom-1', 'ap-south');
    // eu-west's catalog knows us-east's source warehouse, so it accepts the transfer events.
    await remoteWarehouse('nyc-1', 'us-east', euWest);
  }, 60_000);

  afterAll(async () => {
    await euWest?.close();
  });

  it('cancels a transfer the destination never received: the units come back once, and a late dispatch adds nothing', async () => {
    const t = await pendingTransfer('SKU-CAN', 4);
    expect(await row('nyc-1', 'SKU-CAN')).toMatchObject({ onHand: 6 });
    const headers = key();
    const cancelled = await cancel(t.id, headers);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: t.id, status: 'cancelled', statusReason: 'cancelled on request' });
    expect(await row('nyc-1', 'SKU-CAN')).toMatchObject({ onHand: 10 });
    expect(await receipt(t)).toBe('cancelled');

    // Idempotent: the same key replays the answer; without a key, or from another region, the same state.
    const replay = await cancel(t.id, headers);
    expect(replay).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await cancel(t.id)).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    const forwarded = await cancel(t.id, {}, euWest);
    expect(forwarded).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(forwarded.headers['stockmesh-served-by']).toBe('us-east');
    expect((await returns(t)).map((m) => [m.delta, m.reason, m.actor])).toEqual([
      [4, 'transfer-cancelled', 'key bootstrap (STOCKMESH_ADMIN_KEY)'],
    ]);

    // The dispatched event still reaches the destination: its tombstone keeps it from adding anything.
    await dispatchToEuWest(t);
    expect(await transfersIn(t)).toBe(0);
    expect((await row('fra-1', 'SKU-CAN', euWest)).version).toBe(0);
    expect(await receipt(t)).toBe('cancelled');
    expect(await row('nyc-1', 'SKU-CAN')).toMatchObject({ onHand: 10 });
  });

  it('answers 409 transfer-conflict once the destination received the units, and 404 for unknown transfers', async () => {
    const t = await pendingTransfer('SKU-LATE', 3);
    await dispatchToEuWest(t);
    expect(await row('fra-1', 'SKU-LATE', euWest)).toMatchObject({ onHand: 3 });
    const late = await cancel(t.id, key());
    expect(late.status).toBe(409);
    expect(late.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(late.body).toMatchObject({ code: 'transfer-conflict', transferStatus: 'completed' });
    expect(await get(t.id)).toMatchObject({ status: 'completed' });
    expect(await row('nyc-1', 'SKU-LATE')).toMatchObject({ onHand: 7 });
    expect(await returns(t)).toHaveLength(0);

    const local = (await transfer({ sku: 'SKU-LATE', fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 1 })).body;
    expect((await cancel(String(local.id))).body).toMatchObject({ code: 'transfer-conflict', transferStatus: 'completed' });
    for (const id of [`us-east.${randomUUID()}`, 'not-an-id', `mars-1.${randomUUID()}`]) {
      expect((await cancel(id)).body).toMatchObject({ code: 'transfer-not-found', status: 404 });
    }
  });

  it('refuses malformed or inconsistent requests on the internal resolve API, and changes nothing', async () => {
    const t = await pendingTransfer('SKU-RESOLVE', 1);
    // The destination's internal listener, called as the source region would, signed.
    const resolve = (id: string, body: unknown) =>
      signedCall(euWest, 'POST', `/internal/v1/transfers/${encodeURIComponent(id)}/resolve`, { body, from: 'us-east' });
    const data = dataOf(t);
    for (const [body, status, code] of [
      [{ ...data, quantity: 0 }, 400, 'validation-failed'],
      [{ ...data, sku: "S'; DROP TABLE transfer_receipts;--" }, 400, 'validation-failed'],
      [{ ...data, extra: 1 }, 400, 'validation-failed'],
      [{ ...data, shard: (data.shard + 1) % 16 }, 409, 'transfer-conflict'],
      [{ ...data, toRegion: 'ap-south' }, 409, 'transfer-conflict'],
      [{ ...data, transferId: `eu-west.${randomUUID()}` }, 409, 'transfer-conflict'],
    ] as const) {
      const answer = await resolve(t.id, body);
      expect([answer.status, answer.body.code]).toEqual([status, code]);
    }
    expect((await resolve('not-an-id', data)).status).toBe(400);
    expect(await receipt(t)).toBeUndefined();
    expect(await resolve(t.id, data)).toMatchObject({ status: 200, body: { outcome: 'cancelled' } });
    expect(await resolve(t.id, { ...data, quantity: 2 })).toMatchObject({ status: 409, body: { code: 'transfer-conflict' } });
  });

  it('lets exactly one of a cancel and a receipt win when they race, and conserves every unit', async () => {
    const made: Transfer[] = [];
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-RACE', { body: { onHand: 10 } });
    for (let i = 0; i < 10; i++) {
      made.push(
        (await transfer({ sku: 'SKU-RACE', fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 1 })).body as unknown as Transfer,
      );
    }
    // A true race: a transaction of the test holds the transfer id's receipt key at the destination
    // until both the cancel's tombstone and the dispatched event's receipt wait on it, then lets
    // them go at the same instant.
    const gate = new pg.Client({ connectionString: euWest.config.shardMap.databaseFor(shard('SKU-RACE')).url });
    await gate.connect();
    const answers: Awaited<ReturnType<typeof cancel>>[] = [];
    try {
      for (const t of made) {
        await gate.query('BEGIN');
        await gate.query(
          `INSERT INTO transfer_receipts (transfer_id, sku, from_warehouse_id, from_region, to_warehouse_id, quantity, outcome)
           VALUES ($1, $2, $3, $4, $5, $6, 'received')`,
          [t.id, t.sku, t.fromWarehouseId, t.fromRegion, t.toWarehouseId, t.quantity],
        );
        const both = Promise.all([cancel(t.id), dispatchToEuWest(t)]);
        await waitFor(
          async () => {
            // From another session: statistics views are a snapshot per transaction.
            const [{ n }] = await sql<{ n: string }>(
              'SKU-RACE',
              `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
              [],
              euWest,
            );
            return Number(n) >= 2 ? true : undefined;
          },
          { intervalMs: 5, what: 'the cancel and the receipt to wait on the same transfer id' },
        );
        await gate.query('ROLLBACK');
        const [answer] = await both;
        // A receipt slower than the tombstone's lock timeout makes the cancel ask again (503): then it is decided.
        answers.push(answer.status === 503 ? await cancel(t.id) : answer);
      }
    } finally {
      await gate.end();
    }
    // The receipts' events reach the source too, after the cancels ended: nothing changes twice.
    const answered = await sql<{ key: string; value: string }>(
      'SKU-RACE',
      `SELECT key, value FROM outbox WHERE key = ANY($1) ORDER BY seq`,
      [made.map((t) => t.id)],
      euWest,
    );
    for (const e of answered) {
      const t = made.find((m) => m.id === e.key)!;
      await deliver(TOPICS.transfers, shard('SKU-RACE'), [received(t, (JSON.parse(e.value) as { outcome: 'received' }).outcome)]);
    }
    let cancelled = 0;
    for (const [i, t] of made.entries()) {
      const won = answers[i].status === 200 ? 'cancelled' : 'received';
      if (won === 'cancelled') cancelled++;
      else expect(answers[i].body).toMatchObject({ code: 'transfer-conflict', transferStatus: 'completed' });
      expect(await receipt(t)).toBe(won);
      expect(await get(t.id)).toMatchObject({ status: won === 'cancelled' ? 'cancelled' : 'completed' });
      expect(await transfersIn(t)).toBe(won === 'received' ? 1 : 0);
    }
    expect(await returns(made[0])).toHaveLength(cancelled);
    expect((await row('nyc-1', 'SKU-RACE')).onHand).toBe(cancelled);
    expect((await row('fra-1', 'SKU-RACE', euWest)).onHand).toBe(made.length - cancelled);
  });

  it('cancels an overdue transfer whose dispatched event was lost, and only once it is overdue', async () => {
    const t = await pendingTransfer('SKU-LOST', 5);
    const created = Date.now();
    expect((await reconcile(created)).due).toBe(0);
    expect(await get(t.id)).toMatchObject({ status: 'pending' });
    const report = await reconcile(created + timeoutMs() + 60_000);
    expect(report.ended).toBeGreaterThanOrEqual(1);
    expect(await get(t.id)).toMatchObject({ status: 'cancelled', statusReason: `not received within ${timeoutMs()} ms` });
    expect(await row('nyc-1', 'SKU-LOST')).toMatchObject({ onHand: 10 });
    expect((await returns(t)).map((m) => [m.delta, m.reason, m.actor])).toEqual([[5, 'transfer-cancelled', `transfer:${t.id}`]]);
    expect(await receipt(t)).toBe('cancelled');
    // The event turns up after all (it was only late): the destination adds nothing.
    await dispatchToEuWest(t);
    expect(await transfersIn(t)).toBe(0);
  });

  it('shares overdue transfers between instances of the region: each is claimed and ended once', async () => {
    await call(region, 'PUT', '/v1/warehouses/nyc-1/stock/SKU-TWICE', { body: { onHand: 10 } });
    const made: Transfer[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        (await transfer({ sku: 'SKU-TWICE', fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 2 })).body as unknown as Transfer,
      );
    }
    // Two passes at once, as two processes of us-east would run them on the same databases.
    const at = Date.now() + timeoutMs() + 60_000;
    const [a, b] = await Promise.all([reconcile(at), reconcile(at)]);
    expect(a.ended + b.ended).toBeGreaterThanOrEqual(made.length);
    expect(await returns(made[0])).toHaveLength(made.length);
    for (const t of made) {
      expect(await get(t.id)).toMatchObject({ status: 'cancelled' });
      expect((await returns(t)).filter((m) => m.actor === `transfer:${t.id}`)).toHaveLength(1);
      const [{ n }] = await sql<{ n: number }>('SKU-TWICE', `SELECT check_attempts AS n FROM transfers WHERE id = $1`, [t.id]);
      expect(n).toBe(1);
    }
    expect(await row('nyc-1', 'SKU-TWICE')).toMatchObject({ onHand: 10 });
  });

  it('completes an overdue transfer the destination received whose answer was lost', async () => {
    const t = await pendingTransfer('SKU-MUTE', 6);
    await dispatchToEuWest(t); // its `received` event stays in eu-west's outbox: never delivered
    await reconcile(Date.now() + timeoutMs() + 60_000);
    expect(await get(t.id)).toMatchObject({ status: 'completed' });
    expect(await row('nyc-1', 'SKU-MUTE')).toMatchObject({ onHand: 4 });
    expect(await row('fra-1', 'SKU-MUTE', euWest)).toMatchObject({ onHand: 6 });
    expect(await returns(t)).toHaveLength(0);
    expect(await receipt(t)).toBe('received');
  });

  it('backs off per transfer while its destination does not answer, and refuses to cancel it (503)', async () => {
    const t = await pendingTransfer('SKU-DOWN', 2, 10, 'bom-1');
    const attempts = async (): Promise<{ n: number; next: Date }> => {
      const [r] = await sql<{ check_attempts: number; next_check_at: Date }>(
        'SKU-DOWN',
        `SELECT check_attempts, next_check_at FROM transfers WHERE id = $1`,
        [t.id],
      );
      return { n: r.check_attempts, next: r.next_check_at };
    };
    const due = Date.now() + timeoutMs() + 60_000;
    expect((await reconcile(due)).unanswered).toBeGreaterThanOrEqual(1);
    expect(await attempts()).toMatchObject({ n: 1, next: new Date(due + 5_000) });
    await reconcile(due + 4_999); // within its backoff: not asked again
    expect((await attempts()).n).toBe(1);
    await reconcile(due + 5_000);
    expect(await attempts()).toMatchObject({ n: 2, next: new Date(due + 5_000 + 10_000) });
    expect(await get(t.id)).toMatchObject({ status: 'pending' });

    const refused = await cancel(t.id, key());
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'region-unavailable', region: 'ap-south' });
    expect(await row('nyc-1', 'SKU-DOWN')).toMatchObject({ onHand: 8 });
    expect(await returns(t)).toHaveLength(0);
  });

  it('retries units refused by the destination while the source row is full, returns them once it has room, or writes them off', async () => {
    // Two transfers whose units come back (refused) to a row that filled up meanwhile.
    const drains = await pendingTransfer('SKU-FULLRET', 5);
    const stays = await pendingTransfer('SKU-FULLRET2', 5);
    for (const t of [drains, stays]) {
      await call(region, 'PUT', `/v1/warehouses/nyc-1/stock/${t.sku}`, { body: { onHand: 999_999_999 } });
      await deliver(TOPICS.transfers, shard(t.sku), [received(t, 'refused')]);
      expect(await get(t.id)).toMatchObject({ status: 'pending' });
    }
    // A cancel cannot do better: the destination's decision stands, the units wait (202).
    expect(await cancel(stays.id)).toMatchObject({ status: 202, body: { status: 'pending' } });

    let at = Date.now() + timeoutMs() + 60_000;
    await reconcile(at);
    expect(await get(drains.id)).toMatchObject({ status: 'pending' });
    await call(region, 'PUT', `/v1/warehouses/nyc-1/stock/${drains.sku}`, { body: { onHand: 100 } });
    for (let i = 1; i < MAX_RETURN_ATTEMPTS; i++) {
      at += 3_600_000; // past any backoff
      await reconcile(at);
    }
    expect(await get(drains.id)).toMatchObject({ status: 'returned' });
    expect(await row('nyc-1', drains.sku)).toMatchObject({ onHand: 105 });
    expect((await returns(drains)).map((m) => m.delta)).toEqual([5]);

    const failed = await get(stays.id);
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed.statusReason).toMatch(/written off/);
    expect(await row('nyc-1', stays.sku)).toMatchObject({ onHand: 999_999_999 });
    expect(await returns(stays)).toHaveLength(0);
    at += 3_600_000;
    expect((await reconcile(at)).ended).toBe(0);
    expect(await get(stays.id)).toMatchObject({ status: 'failed' });
  });
});
