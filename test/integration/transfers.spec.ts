import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, newEvent, TOPICS, toKafkaRecord, type TransferData } from '@stockmesh/contracts';
import { Replicator } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// Transfers served by one in-process region (us-east) on the real PostgreSQL, replication off:
// events stay in the outbox, where the tests read them. The other regions' side of a transfer is
// played by feeding records to the region's own Replicator, as Kafka would deliver them.
let region: TestRegion;
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

async function sql<T extends pg.QueryResultRow>(sku: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: region.config.shardMap.databaseFor(shard(sku)).url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function row(warehouse: string, sku: string): Promise<{ onHand: number; reserved: number; version: number }> {
  const answer = await call<{ onHand: number; reserved: number; version: number }>(
    region,
    'GET',
    `/v1/warehouses/${warehouse}/stock/${sku}`,
  );
  return answer.status === 200 ? answer.body : { onHand: 0, reserved: 0, version: 0 };
}

const ledger = async (warehouse: string, sku: string): Promise<Movement[]> =>
  (await call<{ items: Movement[] }>(region, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}/movements`)).body.items;

/** The outbox of the SKU's database, for this SKU: what the relay would publish. */
const outbox = (sku: string) =>
  sql<{ topic: string; partition: number; key: string; type: string; value: string }>(
    sku,
    `SELECT topic, partition, key, headers->>'ce_type' AS type, value FROM outbox
     WHERE key = $1 OR value::jsonb->>'sku' = $1 ORDER BY seq`,
    [sku],
  );

const offsets = new Map<string, bigint>();
/** Delivers records to the region's replicator as one Kafka batch of `topic`/`partition`. */
async function deliver(topic: string, partition: number, records: ReturnType<typeof toKafkaRecord>[]): Promise<void> {
  const at = `${topic}/${partition}`;
  let next = offsets.get(at) ?? 0n;
  const messages = records.map((r) => ({
    topic,
    partition,
    offset: String(next++),
    key: r.key,
    value: Buffer.from(r.value),
    headers: r.headers,
    timestamp: Date.now(),
  }));
  offsets.set(at, next);
  await region.app.get(Replicator).apply({ topic, partition, messages, highWatermark: String(next) });
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
async function remoteWarehouse(id: string, owner: string): Promise<void> {
  const time = new Date().toISOString();
  const data = { id, region: owner, name: id, latitude: null, longitude: null, version: 1, createdAt: time, updatedAt: time };
  await deliver(TOPICS.catalog, 0, [
    toKafkaRecord(newEvent({ source: owner, type: EVENT_TYPES.warehouseChanged, time, subject: `warehouses/${id}`, data }), id),
  ]);
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
  region = await startTestRegion('transfer');
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
    const made = await transfer(
      { sku: 'SKU-S', fromWarehouseId: 'nyc-1', toWarehouseId: 'nyc-2', quantity: 4 },
      { ...key(), 'x-actor': 'wms' },
    );
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
    expect(out).toMatchObject({ kind: 'transfer-out', delta: -4, reason: 'transfer', actor: 'wms' });
    expect(into).toMatchObject({ kind: 'transfer-in', delta: 4, reason: 'transfer', actor: 'wms', requestId: out.requestId });
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
