import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  EVENT_TYPES,
  MAX_QUANTITY,
  newEvent,
  signApiKeyChange,
  TOPICS,
  toKafkaRecord,
  type KafkaRecord,
  type UnsignedApiKeyChange,
} from '@stockmesh/contracts';
import { shardOf } from '@stockmesh/sharding';
import {
  call,
  ManualClock,
  startTestRegion,
  TEST_CLUSTER_SECRET,
  producerOnRegionTopics,
  testKafka,
  throwawayPrefix,
  waitFor,
  type TestRegion,
} from '@stockmesh/testing';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import pg from 'pg';

// One region (us-east) in-process, replicating through the real broker on topics of its own. The
// other regions are played by records produced with kafkajs, as any client of the broker could:
// forged ones must be dead-lettered with the reason while the partition keeps applying.
let region: TestRegion;
// Moved only by the test of a warehouse the catalog never learns about.
const clock = new ManualClock();
let kafka: Kafka;
let producer: Producer;
let deadLetters: Consumer;
const prefix = `${throwawayPrefix('forged').replace(/_/g, '-')}.`;
const seen: { reason: string; topic: string; id: string }[] = [];
const NOW = '2026-12-01T10:00:00.000Z';

const shard = (sku: string): number => shardOf(sku, region.config.cluster.shardCount);

async function sql<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

const replica = async (warehouseId: string, sku: string): Promise<{ region: string; on_hand: string; version: string } | undefined> =>
  (
    await sql<{ region: string; on_hand: string; version: string }>(
      region.config.shardMap.databaseFor(shard(sku)).url,
      'SELECT region, on_hand, version FROM stock_replica WHERE warehouse_id = $1 AND sku = $2',
      [warehouseId, sku],
    )
  )[0];

function stockRecord(source: string, data: Record<string, unknown>): KafkaRecord {
  const full = {
    warehouseId: 'fra-1',
    region: source,
    shard: shard(String(data.sku)),
    onHand: 1,
    reserved: 0,
    version: 1,
    updatedAt: NOW,
    cause: { kind: 'set', delta: 1, reason: 'counted', movementId: randomUUID(), actor: 'wms' },
    ...data,
  };
  const event = newEvent({ source, type: EVENT_TYPES.stockChanged, time: NOW, subject: `stock/${String(data.sku)}`, data: full });
  return toKafkaRecord(event, String(data.sku));
}

function warehouseRecord(source: string, data: Record<string, unknown>): KafkaRecord {
  const full = {
    id: 'fra-1',
    region: source,
    name: 'Frankfurt 1',
    latitude: null,
    longitude: null,
    version: 1,
    createdAt: NOW,
    updatedAt: NOW,
  };
  const event = newEvent({
    source,
    type: EVENT_TYPES.warehouseChanged,
    time: NOW,
    subject: 'warehouses/fra-1',
    data: { ...full, ...data },
  });
  return toKafkaRecord(event, String(full.id));
}

function kitRecord(source: string, data: Record<string, unknown>): KafkaRecord {
  const full = {
    sku: 'KIT-F',
    region: source,
    components: [{ sku: 'F-1', quantity: 1 }],
    version: 1,
    createdAt: NOW,
    updatedAt: NOW,
    ...data,
  };
  const event = newEvent({ source, type: EVENT_TYPES.kitChanged, time: NOW, subject: `kits/${full.sku}`, data: full });
  return toKafkaRecord(event, `kits/${full.sku}`);
}

async function produce(topic: string, partition: number, records: KafkaRecord[]): Promise<void> {
  await producer.send({
    topic: prefix + topic,
    messages: records.map((r) => ({ partition, key: r.key, value: r.value, headers: { ...r.headers } })),
  });
}

async function deadLettered(id: string): Promise<string> {
  return waitFor(async () => seen.find((s) => s.id === id)?.reason, {
    what: `event ${id} to be dead-lettered`,
    describe: async () => JSON.stringify(seen),
  });
}

const idOf = (r: KafkaRecord): string => r.headers.ce_id;

beforeAll(async () => {
  region = await startTestRegion(
    'forged',
    {
      STOCKMESH_REPLICATION: 'true',
      KAFKA_BROKERS: testKafka().brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_MAX_WAIT_MS: '100',
    },
    { clock },
  );
  kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
  producer = await producerOnRegionTopics(kafka, prefix);
  deadLetters = kafka.consumer({ groupId: `${prefix}dlt-check`, maxWaitTimeInMs: 100 });
  await deadLetters.connect();
  await deadLetters.subscribe({ topic: prefix + TOPICS.deadLetter, fromBeginning: true });
  await deadLetters.run({
    eachMessage: async ({ message }) => {
      const h = (name: string): string => message.headers?.[name]?.toString() ?? '';
      seen.push({ reason: h('dlt_reason'), topic: h('dlt_topic'), id: h('ce_id') });
    },
  });
  expect((await call(region, 'PUT', '/v1/warehouses/nyc-1', { body: { region: 'us-east', name: 'New York 1' } })).status).toBe(201);
  await produce(TOPICS.catalog, 0, [warehouseRecord('eu-west', {})]);
  await waitFor(
    async () => {
      const list = await call<{ items: { id: string }[] }>(region, 'GET', '/v1/warehouses');
      return list.body.items.some((w) => w.id === 'fra-1') ? true : undefined;
    },
    { what: 'us-east to learn eu-west’s fra-1' },
  );
}, 60_000);

afterAll(async () => {
  await deadLetters?.disconnect();
  await producer?.disconnect();
  await region?.close();
}, 30_000);

describe('forged and unstorable records on the real broker', () => {
  it('dead-letters API-key changes not signed with the cluster secret (an admin key made on the broker), and applies a signed one', async () => {
    // A key as an attacker with write access to the topic would make it: its secret known to them.
    const secret = randomBytes(32).toString('base64url');
    const keyChange = (id: string, signedWith: string | undefined, source = 'eu-west'): KafkaRecord => {
      const unsigned: UnsignedApiKeyChange = {
        id,
        name: 'forged',
        scopes: ['admin'],
        secretHash: createHash('sha256').update(secret).digest('base64url'),
        region: source,
        version: 1,
        createdAt: NOW,
        revokedAt: null,
      };
      const signature = signedWith === undefined ? `v1=${'A'.repeat(43)}` : signApiKeyChange(Buffer.from(signedWith), source, unsigned);
      const event = newEvent({
        source,
        type: EVENT_TYPES.apiKeyChanged,
        time: NOW,
        subject: `api-keys/${id}`,
        data: { ...unsigned, signature },
      });
      return toKafkaRecord(event, id);
    };
    const ids = Array.from({ length: 4 }, () => randomBytes(8).toString('hex'));
    const [unsigned, otherSecret, wrongSource, signed] = [
      keyChange(ids[0], undefined),
      keyChange(ids[1], 'not-the-cluster-secret-but-long-enough-0123456789'),
      // Signed by eu-west, but replayed as coming from ap-south.
      { ...keyChange(ids[2], TEST_CLUSTER_SECRET), headers: { ...keyChange(ids[2], TEST_CLUSTER_SECRET).headers, ce_source: 'ap-south' } },
      keyChange(ids[3], TEST_CLUSTER_SECRET),
    ];
    await produce(TOPICS.apiKeys, 0, [unsigned, otherSecret, wrongSource, signed]);
    for (const forged of [unsigned, otherSecret, wrongSource])
      expect(await deadLettered(idOf(forged))).toMatch(/not signed with the cluster secret/);
    const keys = await waitFor(
      async () => {
        const list = await call<{ items: { id: string }[] }>(region, 'GET', '/v1/api-keys');
        return list.body.items.some((k) => k.id === ids[3]) ? list.body.items.map((k) => k.id) : undefined;
      },
      { what: 'the signed key to apply' },
    );
    expect(keys.filter((id) => ids.includes(id))).toEqual([ids[3]]);
    // The signed key works with its secret; the forged ones, with the same secret, do not.
    const present = async (id: string): Promise<number> =>
      (await call(region, 'GET', '/v1/api-keys', { headers: { authorization: `Bearer smk_${id}_${secret}` } })).status;
    expect(await present(ids[3])).toBe(200);
    for (const id of ids.slice(0, 3)) expect(await present(id)).toBe(401);
  }, 60_000);

  it('dead-letters a version of 1e21 (which used to stall the partition for good) and applies the next event', async () => {
    const sku = 'SKU-F1';
    const huge = stockRecord('eu-west', { sku, onHand: 999, version: 1e21 });
    await produce(TOPICS.stock, shard(sku), [huge, stockRecord('eu-west', { sku, onHand: 5, version: 1 })]);
    await waitFor(async () => ((await replica('fra-1', sku))?.on_hand === '5' ? true : undefined), {
      what: 'the event after the huge version to apply',
      describe: async () => JSON.stringify({ replica: await replica('fra-1', sku), seen }),
    });
    expect(await deadLettered(idOf(huge))).toMatch(/version/);
  }, 60_000);

  it('dead-letters a stock event from a region that does not own the warehouse', async () => {
    const sku = 'SKU-F2';
    const forged = stockRecord('ap-south', { sku, onHand: 7, version: 5 });
    await produce(TOPICS.stock, shard(sku), [forged, stockRecord('eu-west', { sku, onHand: 3, version: 1 })]);
    await waitFor(async () => ((await replica('fra-1', sku))?.on_hand === '3' ? true : undefined), {
      what: 'the owner’s event to apply',
      describe: async () => JSON.stringify({ replica: await replica('fra-1', sku), seen }),
    });
    expect(await deadLettered(idOf(forged))).toMatch(/fra-1 belongs to eu-west/);
    expect(await replica('fra-1', sku)).toMatchObject({ region: 'eu-west', version: '1' });
  }, 60_000);

  it('dead-letters a stock event whose data names another region than its source', async () => {
    const sku = 'SKU-F3';
    const forged = stockRecord('eu-west', { sku, region: 'ap-south', onHand: 7, version: 5 });
    await produce(TOPICS.stock, shard(sku), [forged, stockRecord('eu-west', { sku, onHand: 4, version: 1 })]);
    await waitFor(async () => ((await replica('fra-1', sku))?.on_hand === '4' ? true : undefined), {
      what: 'the owner’s event to apply',
      describe: async () => JSON.stringify({ replica: await replica('fra-1', sku), seen }),
    });
    expect(await deadLettered(idOf(forged))).toMatch(/ap-south/);
  }, 60_000);

  it('dead-letters out-of-range quantities and missing fields, and keeps applying', async () => {
    const sku = 'SKU-F4';
    const tooMany = stockRecord('eu-west', { sku, onHand: MAX_QUANTITY + 1, version: 2 });
    const noVersion = stockRecord('eu-west', { sku, version: undefined });
    await produce(TOPICS.stock, shard(sku), [tooMany, noVersion, stockRecord('eu-west', { sku, onHand: 6, version: 1 })]);
    await waitFor(async () => ((await replica('fra-1', sku))?.on_hand === '6' ? true : undefined), {
      what: 'the good event to apply',
    });
    expect(await deadLettered(idOf(tooMany))).toMatch(/onHand/);
    expect(await deadLettered(idOf(noVersion))).toMatch(/version/);
  }, 60_000);

  it('dead-letters a catalog event that moves a warehouse to another region, and applies the next one', async () => {
    const move = warehouseRecord('ap-south', { region: 'ap-south', name: 'Stolen', version: 2 });
    await produce(TOPICS.catalog, 0, [move, warehouseRecord('eu-west', { name: 'Frankfurt One', version: 2 })]);
    await waitFor(
      async () => {
        const list = await call<{ items: { id: string; name: string; region: string }[] }>(region, 'GET', '/v1/warehouses');
        const fra = list.body.items.find((w) => w.id === 'fra-1');
        return fra?.name === 'Frankfurt One' ? fra : undefined;
      },
      { what: 'the owner’s rename to apply' },
    );
    expect(await deadLettered(idOf(move))).toMatch(/fra-1 belongs to eu-west/);
  }, 60_000);

  it('dead-letters a kit another region defined already, and one with a component twice, and applies the defining region’s', async () => {
    const defined = kitRecord('eu-west', {});
    const claimed = kitRecord('ap-south', { version: 2, components: [{ sku: 'F-2', quantity: 1 }] });
    const twice = kitRecord('eu-west', {
      sku: 'KIT-G',
      components: [
        { sku: 'F-1', quantity: 1 },
        { sku: 'F-1', quantity: 2 },
      ],
    });
    await produce(TOPICS.catalog, 0, [defined, claimed, twice]);
    expect(await deadLettered(idOf(claimed))).toMatch(/kit KIT-F is defined by eu-west; ap-south may not change it/);
    expect(await deadLettered(idOf(twice))).not.toBe('');
    const kit = await waitFor(
      async () => {
        const answer = await call<{ region: string; version: number; components: unknown[] }>(region, 'GET', '/v1/kits/KIT-F');
        return answer.status === 200 ? answer.body : undefined;
      },
      { what: 'us-east to learn eu-west’s KIT-F' },
    );
    expect(kit).toMatchObject({ region: 'eu-west', version: 1, components: [{ sku: 'F-1', quantity: 1 }] });
    expect((await call(region, 'GET', '/v1/kits/KIT-G')).status).toBe(404);
  });

  it('dead-letters a transfer dispatched by a region that does not own its source warehouse', async () => {
    const sku = 'SKU-F5';
    const transfer = (from: string, quantity: number): KafkaRecord => {
      const data = {
        transferId: `${from}.${randomUUID()}`,
        sku,
        shard: shard(sku),
        fromWarehouseId: 'fra-1',
        fromRegion: from,
        toWarehouseId: 'nyc-1',
        toRegion: 'us-east',
        quantity,
        dispatchedAt: NOW,
      };
      const event = newEvent({ source: from, type: EVENT_TYPES.transferDispatched, time: NOW, subject: 'transfers/x', data });
      return toKafkaRecord(event, data.transferId);
    };
    const forged = transfer('ap-south', 50);
    await produce(TOPICS.transfers, shard(sku), [forged, transfer('eu-west', 2)]);
    const onHand = async (): Promise<number> => {
      const answer = await call<{ onHand: number }>(region, 'GET', `/v1/warehouses/nyc-1/stock/${sku}`);
      return answer.status === 200 ? answer.body.onHand : 0;
    };
    await waitFor(async () => ((await onHand()) > 0 ? true : undefined), { what: 'a transfer to reach nyc-1' });
    expect(await deadLettered(idOf(forged))).toMatch(/fra-1 belongs to eu-west/);
    expect(await onHand()).toBe(2);
  }, 60_000);

  it('dead-letters a record the database refuses (class 23), applies the rest of its batch, and retries a transient error', async () => {
    // A trigger plays the database's part: it refuses TRAP-* rows as a check violation would, and
    // answers the first BUSY-* row with "too many connections", which must be retried, not refused.
    const p = shard('TRAP-0');
    const same = (stem: string): string => {
      for (let i = 0; ; i++) if (shard(`${stem}-${i}`) === p) return `${stem}-${i}`;
    };
    const [good, trap, busy] = [same('GOOD'), same('TRAP'), same('BUSY')];
    const url = region.config.shardMap.databaseFor(p).url;
    await sql(
      url,
      `CREATE SEQUENCE busy_once;
       CREATE FUNCTION trap() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.sku LIKE 'TRAP-%' THEN RAISE EXCEPTION 'trapped' USING ERRCODE = '23514'; END IF;
         IF NEW.sku LIKE 'BUSY-%' AND nextval('busy_once') = 1 THEN RAISE EXCEPTION 'busy' USING ERRCODE = '53300'; END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER trap BEFORE INSERT ON stock_replica FOR EACH ROW EXECUTE FUNCTION trap();`,
    );
    const refused = stockRecord('eu-west', { sku: trap, onHand: 8 });
    await produce(TOPICS.stock, p, [
      stockRecord('eu-west', { sku: good, onHand: 8 }),
      refused,
      stockRecord('eu-west', { sku: busy, onHand: 9 }),
    ]);
    await waitFor(async () => ((await replica('fra-1', busy))?.on_hand === '9' ? true : undefined), {
      what: 'the records around the refused one to apply',
      describe: async () => JSON.stringify(seen),
    });
    expect(await replica('fra-1', good)).toMatchObject({ on_hand: '8', version: '1' });
    expect(await deadLettered(idOf(refused))).toMatch(/SQLSTATE 23514/);
    expect(await replica('fra-1', trap)).toBeUndefined();
    // The transient error was retried (the trigger fired for BUSY-* at least twice), never dead-lettered.
    expect(Number((await sql<{ n: string }>(url, 'SELECT last_value AS n FROM busy_once'))[0].n)).toBeGreaterThanOrEqual(2);
    expect(seen.filter((s) => s.reason.includes('53300'))).toEqual([]);
  }, 60_000);

  it('waits for the catalog to learn a warehouse, and dead-letters the record if it never does', async () => {
    // A stock event may arrive before its warehouse's catalog event: it waits for it...
    const late = stockRecord('eu-west', { sku: 'SKU-LATE', warehouseId: 'late-1', onHand: 2 });
    await produce(TOPICS.stock, shard('SKU-LATE'), [late]);
    await produce(TOPICS.catalog, 0, [warehouseRecord('eu-west', { id: 'late-1', name: 'Late 1' })]);
    await waitFor(async () => ((await replica('late-1', 'SKU-LATE'))?.on_hand === '2' ? true : undefined), {
      what: 'the event to apply once its warehouse is known',
      describe: async () => JSON.stringify(seen),
    });
    expect(seen.some((s) => s.id === idOf(late))).toBe(false);
    // ... but not for ever: a warehouse nobody registers holds its partition back only so long.
    const sku = 'SKU-GHOST';
    const ghost = stockRecord('eu-west', { sku, warehouseId: 'ghost-1', onHand: 3 });
    await produce(TOPICS.stock, shard(sku), [ghost, stockRecord('eu-west', { sku, onHand: 4 })]);
    const reason = waitFor(
      async () => {
        clock.advance(10_000);
        return seen.find((s) => s.id === idOf(ghost))?.reason;
      },
      { what: 'the record of an unknown warehouse to be dead-lettered', intervalMs: 500 },
    );
    expect(await reason).toMatch(/ghost-1 is not in the catalog/);
    await waitFor(async () => ((await replica('fra-1', sku))?.on_hand === '4' ? true : undefined), { what: 'the next event to apply' });
  }, 60_000);
});
