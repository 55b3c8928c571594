import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, TOPICS } from '@stockmesh/contracts';
import { call, divergence, registerWarehouses, startTestCluster, testKafka, waitFor, type TestCluster } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';

// POST /v1/stock/batch across three regions running as real processes, replicating through the
// real broker: rows of other regions' warehouses are forwarded to their owner, and every region
// converges on them.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const OWNER: Record<string, string> = { 'nyc-1': 'us-east', 'fra-1': 'eu-west', 'bom-1': 'ap-south' };
const at = (id: string): { id: string; url: string } => ({ id, url: t.url(id) });

interface BatchAnswer {
  summary: { rows: number; succeeded: number; failed: number; replayed: number; forwarded: number };
  results: {
    index: number;
    sku: string;
    status: number;
    replayed: boolean;
    level?: { region: string; onHand: number; version: number };
    problem?: { code: string };
  }[];
}
interface Page {
  source: string;
  region: string;
  servedBy: string;
  freshness?: { region: string };
  items: { sku: string; onHand: number }[];
  next: string | null;
}

beforeAll(async () => {
  t = await startTestCluster('batch', { STOCKMESH_HEARTBEAT_MS: '500' });
  await registerWarehouses(t, OWNER);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('a batch sent to one region', () => {
  const skus = Array.from({ length: 60 }, (_, i) => `E-${i}`);
  // us-east receives rows of its own warehouse and of two others' (eu-west, ap-south).
  const rows = skus.flatMap((sku, i) => [
    { warehouseId: 'nyc-1', sku, op: 'set', quantity: i + 1 },
    { warehouseId: 'fra-1', sku, op: 'set', quantity: 100 + i },
    { warehouseId: 'bom-1', sku, op: 'adjust', delta: 5, reason: 'received' },
  ]);
  const key = randomUUID();
  let first: BatchAnswer;

  it('lands each row at its owner and reports it in request order', async () => {
    const answer = await call<BatchAnswer>(at('us-east'), 'POST', '/v1/stock/batch', {
      body: { rows },
      headers: { 'idempotency-key': key },
    });
    expect(answer.status).toBe(200);
    first = answer.body;
    expect(first.summary).toEqual({ rows: 180, succeeded: 180, failed: 0, replayed: 0, forwarded: 120 });
    expect(first.results.map((r) => r.index)).toEqual(rows.map((_, i) => i));
    expect(first.results.slice(0, 3).map((r) => [r.status, r.level?.region, r.level?.onHand, r.level?.version])).toEqual([
      [200, 'us-east', 1, 1],
      [200, 'eu-west', 100, 1],
      [201, 'ap-south', 5, 1],
    ]);
    // The owners hold the rows: read at the owner.
    const fra = await call<{ onHand: number; region: string }>(at('eu-west'), 'GET', '/v1/warehouses/fra-1/stock/E-7');
    expect(fra.body).toMatchObject({ onHand: 107, region: 'eu-west' });
    // Only the owners: us-east has no own row of fra-1 or bom-1.
    const page = await call<Page>(at('us-east'), 'GET', '/v1/warehouses/nyc-1/stock?limit=1000');
    expect(page.body).toMatchObject({ source: 'owner', region: 'us-east' });
    expect(page.body.items).toHaveLength(60);
  });

  it('converges in every region', async () => {
    let last: string[] = [];
    await waitFor(
      async () => {
        last = await divergence(REGIONS.map(at), skus);
        const complete = await Promise.all(
          REGIONS.map(async (region) => {
            const view = await call<{ items: { warehouses: unknown[] }[] }>(at(region), 'POST', '/v1/availability/query', {
              body: { skus },
            });
            return view.body.items.every((item) => item.warehouses.length === 3);
          }),
        );
        return last.length === 0 && complete.every(Boolean) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every region to converge', describe: async () => last.slice(0, 10).join('\n') },
    );
    // A replica's page says where it comes from and how fresh it is.
    const replica = await call<Page>(at('ap-south'), 'GET', '/v1/warehouses/fra-1/stock?limit=25');
    expect(replica.body).toMatchObject({ source: 'replica', region: 'eu-west', servedBy: 'ap-south', freshness: { region: 'eu-west' } });
    const seen: Page['items'] = [...replica.body.items];
    let next = replica.body.next;
    while (next !== null) {
      const page: { body: Page } = await call<Page>(at('ap-south'), 'GET', next);
      seen.push(...page.body.items);
      next = page.body.next;
    }
    expect(seen.map((i) => i.sku)).toEqual([...skus].sort());
    expect(seen.find((i) => i.sku === 'E-7')?.onHand).toBe(107);
  });

  it('replays every row for the same key from any region, forwarded rows too, and changes nothing', async () => {
    const again = await call<BatchAnswer>(at('eu-west'), 'POST', '/v1/stock/batch', {
      body: { rows: [...rows].reverse() },
      headers: { 'idempotency-key': key },
    });
    expect(again.status).toBe(200);
    expect(again.body.summary).toMatchObject({ succeeded: 180, replayed: 180 });
    const bySku = new Map(first.results.map((r) => [`${rows[r.index].warehouseId}/${r.sku}`, r]));
    again.body.results.forEach((r, i) => {
      const row = rows[rows.length - 1 - i];
      expect({ ...r, index: 0 }).toEqual({ ...bySku.get(`${row.warehouseId}/${row.sku}`), index: 0, replayed: true });
    });
    const bom = await call<{ onHand: number; version: number }>(at('ap-south'), 'GET', '/v1/warehouses/bom-1/stock/E-3');
    expect(bom.body).toMatchObject({ onHand: 5, version: 1 });
  });

  it('reports the refused rows of each owner and applies the others', async () => {
    const answer = await call<BatchAnswer>(at('ap-south'), 'POST', '/v1/stock/batch', {
      body: {
        rows: [
          { warehouseId: 'fra-1', sku: 'E-0', op: 'adjust', delta: -1000, reason: 'lost' },
          { warehouseId: 'nyc-1', sku: 'E-0', op: 'adjust', delta: 1, reason: 'found' },
          { warehouseId: 'nowhere-1', sku: 'E-0', op: 'set', quantity: 1 },
        ],
      },
    });
    expect(answer.status).toBe(207);
    expect(answer.body.results.map((r) => [r.status, r.problem?.code ?? r.level?.region])).toEqual([
      [409, 'insufficient-stock'],
      [201, 'us-east'],
      [404, 'warehouse-not-found'],
    ]);
    expect((await call(at('eu-west'), 'GET', '/v1/warehouses/fra-1/stock/E-0')).body).toMatchObject({ onHand: 100, version: 1 });
  });
});

describe('stock alerts in the cluster', () => {
  it('are announced once, by the owner, although every region replicates the row', async () => {
    const sku = 'ALERT-1';
    // Sent to us-east, forwarded to fra-1's owner eu-west: 3 units under a threshold of 5 is low.
    const set = await call<BatchAnswer>(at('us-east'), 'POST', '/v1/stock/batch', {
      body: { rows: [{ warehouseId: 'fra-1', sku, op: 'set', quantity: 3, lowStockThreshold: 5 }] },
    });
    expect(set.body.results.map((r) => [r.status, r.level?.region])).toEqual([[200, 'eu-west']]);
    // Sent to ap-south, forwarded too: 13 units, back in stock.
    const adjusted = await call<{ version: number }>(at('ap-south'), 'POST', `/v1/warehouses/fra-1/stock/${sku}/adjustments`, {
      body: { delta: 10, reason: 'received' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(adjusted.status).toBe(201);
    // Every region has applied the row at its last version before the alerts are counted.
    let last: string[] = [];
    await waitFor(
      async () => {
        last = await divergence(REGIONS.map(at), [sku]);
        const views = await Promise.all(
          REGIONS.map((region) =>
            call<{ warehouses: { warehouseId: string; version: number }[] }>(at(region), 'GET', `/v1/availability/${sku}`),
          ),
        );
        const applied = views.every((v) => v.body.warehouses.some((w) => w.warehouseId === 'fra-1' && w.version === adjusted.body.version));
        return last.length === 0 && applied ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every region to apply the row', describe: async () => last.join('\n') },
    );

    const kafka = new Kafka({ ...testKafka('admin'), logLevel: logLevel.NOTHING });
    const topic = t.topicPrefix + TOPICS.stockAlerts;
    const alerts: { source: string; type: string; key: string }[] = [];
    const consumer = kafka.consumer({ groupId: `${t.topicPrefix}alerts-check`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          alerts.push({ source: String(message.headers?.ce_source), type: String(message.headers?.ce_type), key: String(message.key) });
        },
      });
      await waitFor(async () => (alerts.length >= 2 ? true : undefined), { what: 'two alerts', describe: async () => `${alerts.length}` });
    } finally {
      await consumer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    // The whole topic: no other case of this suite sets a threshold, and no replica announces.
    expect(ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)).toBe(2);
    expect(alerts).toEqual([
      { source: 'eu-west', type: EVENT_TYPES.stockLow, key: `fra-1/${sku}` },
      { source: 'eu-west', type: EVENT_TYPES.stockBackInStock, key: `fra-1/${sku}` },
    ]);
  });
});
