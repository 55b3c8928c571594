import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, newEvent, toKafkaRecord, TOPICS } from '@stockmesh/contracts';
import { shardOf } from '@stockmesh/sharding';
import { call, startTestCluster, testKafka, waitFor, type TestCluster } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';

// A region that joins a running cluster (issue 11): ap-south is in the configuration but starts
// only after us-east and eu-west have stock, keys and a catalog, while us-east keeps writing. It
// must rebuild every other region's rows from the compacted topics and say it is ready only once
// it holds them all, then converge with the owners. Real processes, the real broker.
let t: TestCluster;
const US = 'us-east';
const EU = 'eu-west';
const AP = 'ap-south';
const OWNER: Record<string, string> = { 'nyc-1': US, 'fra-1': EU };
const SKUS = Array.from({ length: 2_500 }, (_, i) => `SKU-J${String(i).padStart(4, '0')}`);
/** Rows us-east keeps changing while ap-south starts. */
const BUSY = SKUS.slice(0, 20);
const at = (id: string): { url: string } => ({ url: t.url(id) });

interface Row {
  readonly sku: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly version: number;
}

/** Every row of a warehouse as `region` serves it (the owner's rows there, the replica elsewhere). */
async function rowsAt(region: string, warehouseId: string): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  let cursor: string | undefined;
  do {
    const page = await call<{ items: Row[]; nextCursor: string | null }>(
      at(region),
      'GET',
      `/v1/warehouses/${warehouseId}/stock?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(page.status).toBe(200);
    for (const row of page.body.items) rows.set(row.sku, row);
    cursor = page.body.nextCursor ?? undefined;
  } while (cursor);
  return rows;
}

/** The rows of `replica` older than `truth`'s or missing, as lines. */
function behind(truth: Map<string, Row>, replica: Map<string, Row>): string[] {
  const out: string[] = [];
  for (const [sku, row] of truth) {
    const seen = replica.get(sku);
    if (!seen || seen.version < row.version) out.push(`${sku}: owner v${row.version}, replica ${seen ? `v${seen.version}` : 'missing'}`);
  }
  return out;
}

beforeAll(async () => {
  // The default configuration has the three regions; only two run at first.
  t = await startTestCluster('join', { STOCKMESH_HEARTBEAT_MS: '500', STOCKMESH_ANTI_ENTROPY_MS: '2000' }, { regions: [US, EU] });
  for (const [id, region] of Object.entries(OWNER)) {
    expect((await call(at(region), 'PUT', `/v1/warehouses/${id}`, { body: { region, name: id } })).status).toBe(201);
  }
  for (const region of [US, EU]) {
    await waitFor(
      async () => ((await call<{ items: unknown[] }>(at(region), 'GET', '/v1/warehouses')).body.items.length === 2 ? true : undefined),
      { what: `${region} to know both warehouses` },
    );
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('a region joining a running cluster', () => {
  it('is ready only once it holds every other region’s rows, then converges with the owners', async () => {
    // 5,000 rows, half of them changed twice: the state topic holds superseded records too.
    for (const [warehouseId, region] of Object.entries(OWNER)) {
      for (let i = 0; i < SKUS.length; i += 1_000) {
        const rows = SKUS.slice(i, i + 1_000).map((sku, n) => ({ warehouseId, sku, op: 'set', quantity: 10 + ((i + n) % 90) }));
        expect((await call(at(region), 'POST', '/v1/stock/batch', { body: { rows } })).status).toBe(200);
      }
      for (let i = 0; i < SKUS.length / 2; i += 1_000) {
        const rows = SKUS.slice(i, Math.min(i + 1_000, SKUS.length / 2)).map((sku) => ({
          warehouseId,
          sku,
          op: 'adjust',
          delta: 5,
          reason: 'received',
        }));
        expect((await call(at(region), 'POST', '/v1/stock/batch', { body: { rows } })).status).toBe(200);
      }
    }
    const key = await call<{ key: string }>(at(US), 'POST', '/v1/api-keys', { body: { name: 'storefront', scopes: ['stock:read'] } });
    expect(key.status).toBe(201);
    const channel = { region: EU, name: 'Web shop', warehouseIds: ['fra-1', 'nyc-1'] };
    expect((await call(at(EU), 'PUT', '/v1/channels/web', { body: channel })).status).toBe(201);
    const before = new Map(await Promise.all(Object.entries(OWNER).map(async ([w, r]) => [w, await rowsAt(r, w)] as const)));
    // A record on the state topic in eu-west's name from another region (anyone who may write the
    // topic could): the rebuild must not take it, though its version is the highest.
    const forgedSku = SKUS[SKUS.length - 1];
    const shard = shardOf(forgedSku, t.cluster.config.shardCount);
    const now = new Date().toISOString();
    const forged = toKafkaRecord(
      newEvent({
        source: US,
        type: EVENT_TYPES.stockChanged,
        time: now,
        subject: `warehouses/fra-1/stock/${forgedSku}`,
        data: {
          warehouseId: 'fra-1',
          sku: forgedSku,
          region: EU,
          shard,
          onHand: 1_000_000,
          reserved: 0,
          version: 1_000,
          updatedAt: now,
          cause: { kind: 'set', delta: 1_000_000, reason: 'counted', movementId: randomUUID(), actor: 'forger' },
        },
      }),
      forgedSku,
    );
    const producer = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await producer.send({
        topic: t.topicPrefix + TOPICS.stockState,
        messages: [{ partition: shard, key: forged.key, value: forged.value, headers: { ...forged.headers } }],
      });
    } finally {
      await producer.disconnect();
    }

    // us-east keeps writing while ap-south starts: those changes come from the live topic.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        const sku = BUSY[writes % BUSY.length];
        const answer = await call(at(US), 'POST', `/v1/warehouses/nyc-1/stock/${sku}/adjustments`, {
          body: { delta: 1, reason: 'received' },
        });
        expect(answer.status).toBe(201);
        writes++;
      }
    })();
    try {
      // Resolves once ap-south answers /health/ready with 200.
      await t.cluster.startRegion(AP);
    } finally {
      writing = false;
      await writer;
    }
    expect(writes).toBeGreaterThan(0);

    // At the moment it says ready, it already holds every row as the owners had it before it
    // started; eu-west wrote nothing since, so its rows are exactly the owner's (not the forged one).
    for (const [warehouseId, truth] of before) {
      expect(behind(truth, await rowsAt(AP, warehouseId))).toEqual([]);
    }
    const fra = await rowsAt(AP, 'fra-1');
    expect(fra.size).toBe(SKUS.length);
    for (const [sku, row] of before.get('fra-1')!) {
      expect({ sku, onHand: fra.get(sku)?.onHand, version: fra.get(sku)?.version }).toEqual({
        sku,
        onHand: row.onHand,
        version: row.version,
      });
    }
    const ready = await call<{ details: { replicas: { phase: string } } }>(at(AP), 'GET', '/health/ready', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body.details.replicas.phase).toBe('complete');
    // ... and the catalog, the channels and the keys made before it joined.
    expect((await call<{ items: unknown[] }>(at(AP), 'GET', '/v1/warehouses')).body.items).toHaveLength(2);
    expect((await call(at(AP), 'GET', '/v1/channels/web')).status).toBe(200);
    expect((await call(at(AP), 'GET', '/v1/warehouses', { key: key.body.key })).status).toBe(200);

    // Then it converges with the owners, the writes made during its start included ...
    for (const [warehouseId, region] of Object.entries(OWNER)) {
      let last: string[] = [];
      await waitFor(
        async () => {
          const [truth, replica] = await Promise.all([rowsAt(region, warehouseId), rowsAt(AP, warehouseId)]);
          last = behind(truth, replica);
          const extra = [...replica.keys()].filter((sku) => !truth.has(sku));
          const differ = [...truth].filter(([sku, row]) => {
            const seen = replica.get(sku);
            return !seen || seen.version !== row.version || seen.onHand !== row.onHand || seen.reserved !== row.reserved;
          });
          return differ.length === 0 && extra.length === 0 ? true : undefined;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 500,
          what: `ap-south's replica of ${warehouseId} to equal the owner's`,
          describe: async () => last.slice(0, 10).join('\n'),
        },
      );
    }
    // ... and its digests then equal theirs: the next rounds of digests compared find no bucket apart.
    type Checks = { digestsCompared: number; bucketsDiffered: number };
    const checksAt = async (): Promise<Map<string, Checks>> => {
      const cluster = await call<{ regions: { region: string; replicaChecks: Checks | null }[] }>(at(AP), 'GET', '/v1/cluster');
      return new Map(
        cluster.body.regions.flatMap((r) => (r.region !== AP && r.replicaChecks ? [[r.region, r.replicaChecks] as const] : [])),
      );
    };
    const start = await checksAt();
    const after = await waitFor(
      async () => {
        const now = await checksAt();
        const rounds = [US, EU].every(
          (r) => (now.get(r)?.digestsCompared ?? 0) >= (start.get(r)?.digestsCompared ?? 0) + t.cluster.config.shardCount,
        );
        return rounds ? now : undefined;
      },
      { timeoutMs: 30_000, what: 'ap-south to compare a round of digests of every shard with both owners' },
    );
    for (const region of [US, EU]) expect(after.get(region)?.bucketsDiffered).toBe(start.get(region)?.bucketsDiffered ?? 0);
  }, 240_000);
});
