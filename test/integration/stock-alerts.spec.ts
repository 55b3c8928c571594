import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, TOPICS, type StockAlertData, type StockChangedData } from '@stockmesh/contracts';
import { OutboxRelay } from '@stockmesh/replication';
import { HoldService } from '@stockmesh/stock';
import { call, startTestRegion, testKafka, throwawayPrefix, waitFor, type TestRegion } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';

// Low-stock alerts at one region, on the real PostgreSQL and Kafka: every kind of change of a
// row (counts, adjustments, batch rows, holds, releases, commits, threshold changes) announces a
// crossing of its threshold once on the alerts topic, and a group-committed batch of holds that
// crosses it once announces it once. The topic is read as the broker's admin, as another team's
// consumer would read it with the `external` principal.
const topicPrefix = `${throwawayPrefix('alerts').replace(/_/g, '-')}.`;
const W = 'alert-1';
let region: TestRegion;
let kafka: Kafka;

interface Published<T> {
  readonly type: string;
  readonly key: string;
  readonly data: T;
}
type Alert = Published<StockAlertData>;

/**
 * Every record of one of the region's topics so far: once the outbox is empty everything written
 * is on the broker, so reading each partition up to its end offset reads all of it.
 */
async function published<T>(name: string): Promise<Published<T>[]> {
  const relay = region.app.get(OutboxRelay);
  await waitFor(async () => ((await relay.pending()) === 0 ? true : undefined), { what: 'the outbox to be published' });
  const topic = topicPrefix + name;
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const expected = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const records: Published<T>[] = [];
  if (expected === 0) return records;
  const consumer = kafka.consumer({ groupId: `${topicPrefix}check-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        records.push({ type: String(message.headers?.ce_type), key: String(message.key), data: JSON.parse(String(message.value)) as T });
      },
    });
    await waitFor(async () => (records.length >= expected ? true : undefined), {
      what: `${expected} records on ${name}`,
      describe: async () => `${records.length}`,
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

const alertsOf = async (sku: string): Promise<Alert[]> =>
  (await published<StockAlertData>(TOPICS.stockAlerts)).filter((a) => a.data.sku === sku).sort((a, b) => a.data.version - b.data.version);

const LOW = EVENT_TYPES.stockLow;
const BACK = EVENT_TYPES.stockBackInStock;

async function set(sku: string, body: Record<string, number>): Promise<{ version: number; lowStock: boolean }> {
  const answer = await call<{ version: number; lowStock: boolean }>(region, 'PUT', `/v1/warehouses/${W}/stock/${sku}`, { body });
  expect(answer.status).toBe(200);
  return answer.body;
}

async function adjust(sku: string, delta: number): Promise<{ version: number; lowStock: boolean }> {
  const answer = await call<{ version: number; lowStock: boolean }>(region, 'POST', `/v1/warehouses/${W}/stock/${sku}/adjustments`, {
    body: { delta, reason: delta > 0 ? 'received' : 'damaged' },
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

const newHoldId = (): string => `us-east.${randomUUID()}/1`;
const place = (sku: string, quantity: number, holdId = newHoldId()): Promise<{ holdId: string; version: number }> =>
  region.app
    .get(HoldService)
    .place({ holdId, reservationId: holdId.split('/')[0]!, warehouseId: W, sku, quantity, ttlSeconds: 600 })
    .then((view) => ({ holdId, version: view.stock!.version }));

beforeAll(async () => {
  region = await startTestRegion('alerts', {
    STOCKMESH_REPLICATION: 'true',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: topicPrefix,
    STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '30000',
  });
  kafka = new Kafka({ ...testKafka('admin'), logLevel: logLevel.NOTHING });
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('stock alerts', () => {
  it('announces each crossing of the threshold once, whatever change makes it, and nothing in between', async () => {
    const sku = 'SKU-SEQ';
    const holds = region.app.get(HoldService);
    const key = { warehouseId: W, sku };
    await set(sku, { onHand: 10, lowStockThreshold: 4 }); // available 10: not low
    const low1 = await adjust(sku, -7); // 3: low
    await adjust(sku, -1); // 2: still low
    const held = await place(sku, 2); // 0: still low
    await holds.release(held.holdId, { ...key, reservationId: held.holdId.split('/')[0]! }); // 2
    const back1 = await adjust(sku, 5); // 7: back in stock
    const sold = await place(sku, 4); // 3: low
    await holds.commit(sold.holdId, key); // on hand 3, reserved 0: available 3, still low
    const back2 = await set(sku, { lowStockThreshold: 3 }); // 3 >= 3: the line moved under it, back in stock
    const low3 = await set(sku, { safetyStock: 1 }); // available 2: low
    await set(sku, { lowStockThreshold: 0 }); // alerts off: the low state ends without an event
    const low4 = await set(sku, { lowStockThreshold: 5 }); // set above available: low, once
    await set(sku, { lowStockThreshold: 6 }); // still low
    const batch = await call<{ results: { level: { version: number; lowStockThreshold: number } }[] }>(region, 'POST', '/v1/stock/batch', {
      body: { rows: [{ op: 'set', warehouseId: W, sku, quantity: 20 }] },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results[0]!.level.lowStockThreshold).toBe(6);

    // A change's answer says what it announced.
    expect([low1.lowStock, back1.lowStock, back2.lowStock, low3.lowStock, low4.lowStock]).toEqual([true, false, false, true, true]);
    const alerts = await alertsOf(sku);
    expect(alerts.map((a) => [a.type, a.data.version])).toEqual([
      [LOW, low1.version],
      [BACK, back1.version],
      [LOW, sold.version],
      [BACK, back2.version],
      [LOW, low3.version],
      [LOW, low4.version],
      [BACK, batch.body.results[0]!.level.version],
    ]);
    expect(alerts.map((a) => [a.data.available, a.data.lowStockThreshold, a.data.cause.kind])).toEqual([
      [3, 4, 'adjustment'],
      [7, 4, 'adjustment'],
      [3, 4, 'hold'],
      [3, 3, 'set'],
      [2, 3, 'set'],
      [2, 5, 'set'],
      [19, 6, 'set'],
    ]);
    expect(new Set(alerts.map((a) => a.key))).toEqual(new Set([`${W}/${sku}`]));
    expect(alerts[0]!.data).toMatchObject({ warehouseId: W, sku, region: 'us-east', onHand: 3, reserved: 0, safetyStock: 0 });

    const row = await call<{ lowStockThreshold: number; lowStock: boolean; available: number }>(
      region,
      'GET',
      `/v1/warehouses/${W}/stock/${sku}`,
    );
    expect(row.body).toMatchObject({ lowStockThreshold: 6, lowStock: false, available: 19 });
  }, 60_000);

  it('announces one alert for a group-committed batch of holds that crosses once, and one when they are released', async () => {
    const sku = 'SKU-MANY';
    await set(sku, { onHand: 300, lowStockThreshold: 100 });
    // 256 one-unit holds at once: the lanes take them in a few transactions, each judged on its
    // rows after the whole batch.
    const held = await Promise.all(Array.from({ length: 256 }, () => place(sku, 1)));
    const row = await call<{ available: number; lowStock: boolean }>(region, 'GET', `/v1/warehouses/${W}/stock/${sku}`);
    expect(row.body).toMatchObject({ available: 44, lowStock: true });

    // The holds did go in batches: their row has fewer stock events than holds.
    const changes = (await published<StockChangedData>(TOPICS.stock)).filter((c) => c.data.sku === sku && c.data.cause.kind === 'hold');
    expect(changes.length).toBeLessThan(held.length);
    const lows = await alertsOf(sku);
    expect(lows.map((a) => a.type)).toEqual([LOW]);
    expect(lows[0]!.data.available).toBeLessThan(100);
    expect(held.map((h) => h.version)).toContain(lows[0]!.data.version);

    const holds = region.app.get(HoldService);
    for (const { holdId } of held) await holds.release(holdId, { warehouseId: W, sku, reservationId: holdId.split('/')[0]! });
    const alerts = await alertsOf(sku);
    expect(alerts.map((a) => [a.type, a.data.available])).toEqual([
      [LOW, lows[0]!.data.available],
      [BACK, 100],
    ]);
  }, 120_000);

  it('announces crossings made by transfers, out of one warehouse and into another', async () => {
    const sku = 'SKU-MOVE';
    const W2 = 'alert-2';
    expect((await call(region, 'PUT', `/v1/warehouses/${W2}`, { body: { region: 'us-east', name: W2 } })).status).toBe(201);
    await set(sku, { onHand: 6, lowStockThreshold: 5 });
    const move = async (from: string, to: string, quantity: number): Promise<void> => {
      const made = await call(region, 'POST', '/v1/transfers', {
        body: { sku, fromWarehouseId: from, toWarehouseId: to, quantity },
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(made.status).toBe(201);
    };
    await move(W, W2, 2); // alert-1: 4 available, low; alert-2 has no threshold
    await move(W2, W, 1); // alert-1: 5, back in stock
    const alerts = await alertsOf(sku);
    expect(alerts.map((a) => [a.key, a.type, a.data.available, a.data.cause.kind])).toEqual([
      [`${W}/${sku}`, LOW, 4, 'transfer-out'],
      [`${W}/${sku}`, BACK, 5, 'transfer-in'],
    ]);
  });

  it('judges a receipt that fills backorders on the row it leaves: units that all go to backorders announce nothing', async () => {
    const sku = 'SKU-BACKORDER';
    await set(sku, { onHand: 0, lowStockThreshold: 2 });
    const receipt = `/v1/warehouses/${W}/stock/${sku}/incoming/po-1`;
    expect((await call(region, 'PUT', receipt, { body: { quantity: 5, expectedAt: '2027-04-01' } })).status).toBe(200);
    const holdId = newHoldId();
    const backorder = await region.app
      .get(HoldService)
      .place({ holdId, reservationId: holdId.split('/')[0]!, warehouseId: W, sku, quantity: 3, ttlSeconds: 600, allowBackorder: true });
    expect(backorder.backordered).toBe(3);
    // 3 arrive and all fill the backorder: nothing was ever for sale, so no back-in-stock.
    const filled = await call<{ available: number; backordered: number }>(region, 'POST', `${receipt}/receive`, { body: { quantity: 3 } });
    expect(filled.body).toMatchObject({ available: 0, backordered: 0 });
    // 2 more: available 2, back at the threshold.
    expect((await call(region, 'POST', `${receipt}/receive`, { body: { quantity: 2 } })).status).toBe(201);
    const alerts = await alertsOf(sku);
    expect(alerts.map((a) => [a.type, a.data.available, a.data.cause.reason])).toEqual([
      [LOW, 0, 'cycle-count'],
      [BACK, 2, 'received'],
    ]);
  });

  it('refuses a threshold out of bounds, and on an adjustment row, as problem details', async () => {
    const negative = await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-BAD`, { body: { lowStockThreshold: -1 } });
    expect(negative.status).toBe(400);
    expect(negative.headers['content-type']).toMatch(/^application\/problem\+json/);
    const fractional = await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-BAD`, { body: { lowStockThreshold: 1.5 } });
    expect(fractional.status).toBe(400);
    const onAdjust = await call<{ errors: { field: string }[] }>(region, 'POST', '/v1/stock/batch', {
      body: { rows: [{ op: 'adjust', warehouseId: W, sku: 'SKU-BAD', delta: 1, reason: 'received', lowStockThreshold: 3 }] },
    });
    expect(onAdjust.status).toBe(400);
    expect(onAdjust.body.errors.map((e) => e.field)).toContain('rows.0.lowStockThreshold');
    // A threshold alone is a change of its own, recorded as such in the ledger.
    const alone = await call<{ movement: { reason: string } }>(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-BAD`, {
      body: { lowStockThreshold: 2 },
    });
    expect(alone.status).toBe(200);
    expect(alone.body.movement.reason).toBe('low-stock-threshold');
  });
});
