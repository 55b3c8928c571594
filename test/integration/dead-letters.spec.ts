import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, newEvent, TOPICS, toKafkaRecord, type KafkaRecord } from '@stockmesh/contracts';
import { shardOf } from '@stockmesh/sharding';
import {
  call,
  ManualClock,
  startTestRegion,
  producerOnRegionTopics,
  testKafka,
  throwawayPrefix,
  waitFor,
  type TestRegion,
} from '@stockmesh/testing';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// One region (us-east) in-process, replicating through the real broker on topics of its own;
// eu-west is played by records produced as the broker's admin. Records its replicator refuses
// become dead letters, which an operator lists and replays through the API once the cause is fixed.
let region: TestRegion;
// Moved only to make the replicator give up waiting for a warehouse the catalog does not know yet.
const clock = new ManualClock();
let producer: Producer;
const prefix = `${throwawayPrefix('dlt').replace(/_/g, '-')}.`;
const NOW = '2026-12-01T10:00:00.000Z';

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

const replica = async (warehouseId: string, sku: string): Promise<{ on_hand: string; version: string } | undefined> =>
  (
    await sql<{ on_hand: string; version: string }>(
      sku,
      'SELECT on_hand, version FROM stock_replica WHERE warehouse_id = $1 AND sku = $2',
      [warehouseId, sku],
    )
  )[0];

function stockRecord(data: { warehouseId: string; sku: string; onHand: number; version: number }): KafkaRecord {
  const full = {
    region: 'eu-west',
    shard: shard(data.sku),
    reserved: 0,
    updatedAt: NOW,
    cause: { kind: 'set', delta: data.onHand, reason: 'counted', movementId: randomUUID(), actor: 'wms' },
    ...data,
  };
  const event = newEvent({ source: 'eu-west', type: EVENT_TYPES.stockChanged, time: NOW, subject: `stock/${data.sku}`, data: full });
  return toKafkaRecord(event, data.sku);
}

function warehouseRecord(id: string): KafkaRecord {
  const data = { id, region: 'eu-west', name: id, latitude: null, longitude: null, version: 1, createdAt: NOW, updatedAt: NOW };
  return toKafkaRecord(
    newEvent({ source: 'eu-west', type: EVENT_TYPES.warehouseChanged, time: NOW, subject: `warehouses/${id}`, data }),
    id,
  );
}

async function produce(topic: string, partition: number, records: KafkaRecord[]): Promise<void> {
  await producer.send({
    topic: prefix + topic,
    messages: records.map((r) => ({ partition, key: r.key, value: r.value, headers: { ...r.headers } })),
  });
}

/** A change of eu-west's, as its relay publishes it: on the state topic, then on the live topic. */
async function publishStock(record: KafkaRecord): Promise<void> {
  const partition = shard(JSON.parse(String(record.value)).sku as string);
  await produce(TOPICS.stockState, partition, [record]);
  await produce(TOPICS.stock, partition, [record]);
}

interface Letter {
  id: string;
  consumer: string;
  reason: string;
  topic: string;
  eventId?: string;
  valuePreview: string | null;
  replayable: boolean;
  replayed: boolean;
  lastReplay: { outcome: string; detail: string } | null;
}

const letters = async (): Promise<Letter[]> => {
  const answer = await call<{ items: Letter[] }>(region, 'GET', '/v1/dead-letters?limit=200');
  expect(answer.status).toBe(200);
  return answer.body.items;
};

/** The letter of the event, once the replicator has dead-lettered it (moving the clock past its patience). */
const letterOf = (eventId: string): Promise<Letter> =>
  waitFor(
    async () => {
      clock.advance(30_000);
      return (await letters()).find((l) => l.eventId === eventId);
    },
    { what: `event ${eventId} to be dead-lettered`, intervalMs: 200 },
  );

const replay = (id: string) => call(region, 'POST', `/v1/dead-letters/${encodeURIComponent(id)}/replay`);

beforeAll(async () => {
  region = await startTestRegion(
    'dlt',
    { STOCKMESH_REPLICATION: 'true', KAFKA_BROKERS: testKafka().brokers.join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_MAX_WAIT_MS: '100' },
    { clock },
  );
  const kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
  producer = await producerOnRegionTopics(kafka, prefix);
  // The replicator is applying once a warehouse of eu-west's arrives.
  await produce(TOPICS.catalog, 0, [warehouseRecord('fra-1')]);
  await waitFor(
    async () =>
      (await call<{ items: { id: string }[] }>(region, 'GET', '/v1/warehouses')).body.items.some((w) => w.id === 'fra-1')
        ? true
        : undefined,
    { what: 'us-east to learn eu-west’s fra-1', timeoutMs: 60_000 },
  );
}, 90_000);

afterAll(async () => {
  await producer?.disconnect();
  await region?.close();
}, 30_000);

describe('dead letters, listed and replayed by an operator', () => {
  it('replays a count of a warehouse registered late exactly once, never over a newer version, and refuses a second replay', async () => {
    const late = stockRecord({ warehouseId: 'late-1', sku: 'SKU-DL1', onHand: 7, version: 1 });
    const overtaken = stockRecord({ warehouseId: 'late-1', sku: 'SKU-DL2', onHand: 3, version: 1 });
    await publishStock(late);
    await publishStock(overtaken);
    const letter = await letterOf(late.headers.ce_id);
    const other = await letterOf(overtaken.headers.ce_id);
    expect(letter).toMatchObject({
      consumer: 'stockmesh.replica.us-east',
      reason: expect.stringMatching(/late-1 is not in the catalog/),
      topic: TOPICS.stock,
      replayable: true,
      replayed: false,
      lastReplay: null,
    });
    expect(letter.id).toMatch(/^0:\d+$/);
    expect(JSON.parse(letter.valuePreview ?? '')).toMatchObject({ warehouseId: 'late-1', sku: 'SKU-DL1', onHand: 7 });

    // Not fixed yet: refused again, recorded, nothing applied.
    const early = await replay(letter.id);
    expect(early.status).toBe(422);
    expect(early.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(early.body).toMatchObject({ code: 'dead-letter-replay-refused', reason: 'warehouse late-1 is not in the catalog' });
    expect(await replica('late-1', 'SKU-DL1')).toBeUndefined();

    // The cause is fixed: eu-west registers the warehouse, and then counts SKU-DL2 again (version 2).
    await produce(TOPICS.catalog, 0, [warehouseRecord('late-1')]);
    await publishStock(stockRecord({ warehouseId: 'late-1', sku: 'SKU-DL2', onHand: 9, version: 2 }));
    await waitFor(async () => ((await replica('late-1', 'SKU-DL2'))?.version === '2' ? true : undefined), { what: 'version 2 to apply' });

    const replayed = await replay(letter.id);
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ id: letter.id, outcome: 'applied', consumer: 'stockmesh.replica.us-east' });
    expect(await replica('late-1', 'SKU-DL1')).toEqual({ on_hand: '7', version: '1' });
    const again = await replay(letter.id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'dead-letter-replayed', replayedAt: expect.any(String) });
    expect(await replica('late-1', 'SKU-DL1')).toEqual({ on_hand: '7', version: '1' });

    // The older version is run (it is valid now) but does not step the row back.
    expect((await replay(other.id)).status).toBe(200);
    expect(await replica('late-1', 'SKU-DL2')).toEqual({ on_hand: '9', version: '2' });

    const listed = (await letters()).find((l) => l.id === letter.id);
    expect(listed).toMatchObject({ replayed: true, lastReplay: { outcome: 'applied' } });
  }, 60_000);

  it('does not replay an API key’s change: replaying its making alone could undo a later revocation', async () => {
    const data = {
      id: 'fedcba9876543210',
      name: 'forged',
      scopes: ['admin'],
      secretHash: 'x'.repeat(43),
      region: 'eu-west',
      version: 1,
      createdAt: NOW,
      revokedAt: null,
      signature: `v1=${'A'.repeat(43)}`,
    };
    const record = toKafkaRecord(
      newEvent({ source: 'eu-west', type: EVENT_TYPES.apiKeyChanged, time: NOW, subject: `api-keys/${data.id}`, data }),
      data.id,
    );
    await produce(TOPICS.apiKeys, 0, [record]);
    const letter = await letterOf(record.headers.ce_id);
    expect(letter).toMatchObject({ topic: TOPICS.apiKeys, reason: expect.stringMatching(/not signed/), replayable: false });
    const refused = await replay(letter.id);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'dead-letter-not-replayable', reason: expect.stringMatching(/revocation/) });
  }, 60_000);

  it('refuses a poison record again and changes nothing; answers 404 for what is not its letter, 400 for a bad id', async () => {
    const poison = stockRecord({ warehouseId: 'late-1', sku: 'SKU-DL3', onHand: -1, version: 1 });
    await publishStock(poison);
    const letter = await letterOf(poison.headers.ce_id);
    expect(letter.reason).toMatch(/onHand/);
    const refused = await replay(letter.id);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'dead-letter-replay-refused', reason: expect.stringMatching(/onHand/) });
    expect(await replica('late-1', 'SKU-DL3')).toBeUndefined();
    expect((await letters()).find((l) => l.id === letter.id)).toMatchObject({ replayed: false, lastReplay: { outcome: 'refused' } });

    for (const id of ['0:999999999', '7:0']) expect((await replay(id)).body).toMatchObject({ status: 404, code: 'dead-letter-not-found' });
    for (const id of ['0', 'x:1', '0:-1', "0:1' OR 1=1"])
      expect((await replay(id)).body).toMatchObject({ status: 400, code: 'validation-failed' });
    for (const bad of ['limit=0', 'limit=201', 'limit=x']) {
      expect((await call(region, 'GET', `/v1/dead-letters?${bad}`)).body).toMatchObject({ status: 400, code: 'validation-failed' });
    }
  }, 60_000);
});

describe('replicas rebuilt on request, while replication goes on', () => {
  it('puts a corrupted and a missing replica row back to the owner’s state, and refuses a region it does not replicate', async () => {
    // eu-west's relay writes every change to the state topic before the live topic.
    const counted = stockRecord({ warehouseId: 'fra-1', sku: 'SKU-RB1', onHand: 5, version: 1 });
    const unseen = stockRecord({ warehouseId: 'fra-1', sku: 'SKU-RB2', onHand: 6, version: 3 });
    await produce(TOPICS.stockState, shard('SKU-RB1'), [counted]);
    await produce(TOPICS.stockState, shard('SKU-RB2'), [unseen]);
    // Written by ap-south (or anyone with access to the topic) in eu-west's name: never taken.
    const forgedData = JSON.parse(String(stockRecord({ warehouseId: 'fra-1', sku: 'SKU-RB3', onHand: 1000, version: 9 }).value)) as object;
    const forged = toKafkaRecord(
      newEvent({ source: 'ap-south', type: EVENT_TYPES.stockChanged, time: NOW, subject: 'stock/SKU-RB3', data: forgedData }),
      'SKU-RB3',
    );
    await produce(TOPICS.stockState, shard('SKU-RB3'), [forged]);
    await publishStock(counted);
    await waitFor(async () => ((await replica('fra-1', 'SKU-RB1'))?.on_hand === '5' ? true : undefined), { what: 'SKU-RB1 to apply' });
    // The fault: someone wrote the table by hand.
    await sql('SKU-RB1', `UPDATE stock_replica SET on_hand = 99 WHERE warehouse_id = 'fra-1' AND sku = 'SKU-RB1'`);
    expect(await replica('fra-1', 'SKU-RB2')).toBeUndefined();

    const rebuilt = await call<{ rowsRead: number; rowsRepaired: number; sources: string[]; shards: number; ms: number }>(
      region,
      'POST',
      '/v1/cluster/replicas/rebuild',
      { body: { region: 'eu-west' } },
    );
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body).toMatchObject({ region: 'us-east', sources: ['eu-west'], shards: 16, rowsRepaired: 2 });
    expect(rebuilt.body.rowsRead).toBeGreaterThanOrEqual(2);
    expect(await replica('fra-1', 'SKU-RB1')).toEqual({ on_hand: '5', version: '1' });
    expect(await replica('fra-1', 'SKU-RB2')).toEqual({ on_hand: '6', version: '3' });
    expect(await replica('fra-1', 'SKU-RB3')).toBeUndefined();
    // Nothing left to repair: every other region's replicas, with an empty body.
    const again = await call(region, 'POST', '/v1/cluster/replicas/rebuild', { body: {} });
    expect(again.body).toMatchObject({ sources: ['eu-west', 'ap-south'], rowsRepaired: 0 });

    for (const body of [{ region: 'us-east' }, { region: 'mars' }, { region: 'EU WEST' }, { region: 7 }, { regions: ['eu-west'] }]) {
      const refused = await call(region, 'POST', '/v1/cluster/replicas/rebuild', { body });
      expect({ body, answer: refused.body }).toMatchObject({ body, answer: { status: 400, code: 'validation-failed' } });
    }
  }, 60_000);
});
