import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, newEvent, TOPICS, toKafkaRecord, type KafkaRecord, type StockChangedData } from '@stockmesh/contracts';
import { MessageBus, type IncomingMessage } from '@stockmesh/messaging';
import { ShardDatabases } from '@stockmesh/persistence';
import { EventAppliers, Replicator, topicSpecs } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import {
  numberedMessages,
  parseExposition,
  startTestRegion,
  testKafka,
  throwawayPrefix,
  waitFor,
  type TestRegion,
} from '@stockmesh/testing';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';

// A replica fed any interleaving, duplication and reordering of one owner's events ends in the
// owner's state: the appliers of the real region, on the real PostgreSQL. Then the same through
// the region's own Replicator, in Kafka batches with poison records among the events.
let region: TestRegion;
let databases: ShardDatabases;
let appliers: EventAppliers;
const prefix = `${throwawayPrefix('replprop').replace(/_/g, '-')}.`;

beforeAll(async () => {
  // Replication stays off (nothing consumes on its own): the tests hand batches to the Replicator.
  // Its dead letters go to this suite's own topics on the real broker.
  region = await startTestRegion('replprop', { KAFKA_BROKERS: testKafka().brokers.join(','), KAFKA_TOPIC_PREFIX: prefix });
  databases = region.app.get(ShardDatabases);
  appliers = region.app.get(EventAppliers);
  const admin = await region.app.get(MessageBus).admin();
  try {
    await admin.ensureTopics(topicSpecs(region.config));
  } finally {
    await admin.close();
  }
}, 60_000);

afterAll(async () => {
  await region?.close();
});

/** The owner's history of one row: versions 1..n, each with the state after that change. */
function history(warehouseId: string, sku: string, changes: readonly number[]): StockChangedData[] {
  let onHand = 0;
  return changes.map((delta, i) => {
    onHand = Math.max(0, onHand + delta);
    return {
      warehouseId,
      sku,
      region: 'eu-west',
      shard: shardOf(sku, 16),
      onHand,
      reserved: Math.min(onHand, i % 3),
      version: i + 1,
      updatedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      cause: { kind: 'adjustment', delta, reason: 'received', movementId: '00000000-0000-4000-8000-000000000000', actor: 'test' },
    };
  });
}

async function replicaRow(warehouseId: string, sku: string): Promise<{ on_hand: string; reserved: string; version: string } | undefined> {
  const [row] = await databases.read(databases.databaseFor(shardOf(sku, 16)), (tx) =>
    tx.query<{ on_hand: string; reserved: string; version: string }>(
      `SELECT on_hand, reserved, version FROM stock_replica WHERE warehouse_id = $1 AND sku = $2`,
      [warehouseId, sku],
    ),
  );
  return row;
}

describe('applying replicated stock events', () => {
  it('always ends in the owner’s final state, whatever the order and duplication', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -20, max: 50 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.infiniteStream(fc.nat()),
        async (changes, duplicates, shuffle) => {
          const sku = `SKU-P${run++}`;
          const events = history('fra-9', sku, changes);
          // Every event at least once, some several times, in a random order.
          const deliveries = [...events, ...duplicates.map((i) => events[i % events.length])];
          const order = deliveries.map((e) => ({ e, k: shuffle.next().value as number })).sort((a, b) => a.k - b.k);
          for (const { e } of order) {
            // One transaction per delivery, as the replicator applies them.
            await databases.inShard(e.shard, (tx) =>
              appliers.apply(
                tx,
                newEvent({ source: 'eu-west', type: EVENT_TYPES.stockChanged, time: e.updatedAt, subject: `x/${e.sku}`, data: e }),
              ),
            );
          }
          const final = events[events.length - 1];
          expect(await replicaRow('fra-9', sku)).toEqual({
            on_hand: String(final.onHand),
            reserved: String(final.reserved),
            version: String(final.version),
          });
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('throws for an event type no module applies, rather than dropping it', async () => {
    await expect(
      databases.inShard(0, (tx) =>
        appliers.apply(tx, {
          ...newEvent({
            source: 'eu-west',
            type: EVENT_TYPES.regionHeartbeat,
            time: new Date().toISOString(),
            subject: 'x',
            data: {} as never,
          }),
        }),
      ),
    ).rejects.toThrow(/no applier/);
  });
});

/** The next offset of each partition fed to the Replicator, as Kafka would number its records. */
const nextOffsets = new Map<string, bigint>();

const records = (topic: string, partition: number, list: readonly KafkaRecord[]): IncomingMessage[] =>
  numberedMessages(nextOffsets, topic, partition, list);

const stockRecord = (data: StockChangedData, source = data.region): KafkaRecord =>
  toKafkaRecord(newEvent({ source, type: EVENT_TYPES.stockChanged, time: data.updatedAt, subject: `x/${data.sku}`, data }), data.sku);

/** Poison of three kinds: not an event, an event from a region that does not own the warehouse, one the database refuses. */
function poisonRecord(kind: number, like: StockChangedData): KafkaRecord {
  const record = stockRecord(like);
  if (kind === 0) return { ...record, value: '{"not": json' };
  if (kind === 1) return stockRecord({ ...like, region: 'ap-south' });
  // Valid to the parser; PostgreSQL refuses the NUL character in its event id (SQLSTATE 22021).
  return { ...record, headers: { ...record.headers, ce_id: `poison\u0000${record.headers.ce_id}` } };
}

/** SKUs of one shard, so that their events share a partition (and a batch). */
function skusOfShard(stem: string, shard: number, count: number): string[] {
  const found: string[] = [];
  for (let i = 0; found.length < count; i++) if (shardOf(`${stem}-${i}`, 16) === shard) found.push(`${stem}-${i}`);
  return found;
}

describe('the Replicator applying Kafka batches', () => {
  beforeAll(async () => {
    // The catalog learns that eu-west owns fra-9 (the replicator checks every sender against it).
    const warehouse = newEvent({
      source: 'eu-west',
      type: EVENT_TYPES.warehouseChanged,
      time: '2026-12-01T10:00:00.000Z',
      subject: 'warehouses/fra-9',
      data: {
        id: 'fra-9',
        region: 'eu-west',
        name: 'Frankfurt 9',
        latitude: null,
        longitude: null,
        version: 1,
        createdAt: '2026-12-01T10:00:00.000Z',
        updatedAt: '2026-12-01T10:00:00.000Z',
      },
    });
    const catalog = records(TOPICS.catalog, 0, [toKafkaRecord(warehouse, 'fra-9')]);
    await region.app.get(Replicator).apply({ topic: TOPICS.catalog, partition: 0, messages: catalog, highWatermark: '1' });
  });

  it('ends in the owner’s state with duplicates, reordering and poison inside batches, dead-letters each poison record once, and stores the position', async () => {
    const replicator = region.app.get(Replicator);
    const poisonIds: string[] = [];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: -20, max: 50 }), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 })), { maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 10 }),
        fc.infiniteStream(fc.nat()),
        fc.boolean(),
        async (rows, duplicates, poisons, sizes, shuffle, redeliver) => {
          const shard = run % 16;
          const skus = skusOfShard(`SKU-B${run++}`, shard, rows.length);
          const histories = rows.map((changes, i) => history('fra-9', skus[i], changes));
          const events = histories.flat();
          const deliveries = [...events, ...duplicates.map((i) => events[i % events.length])]
            .map((e) => ({ record: stockRecord(e), k: shuffle.next().value as number }))
            .sort((a, b) => a.k - b.k)
            .map((d) => d.record);
          for (const [at, kind] of poisons) {
            const poison = poisonRecord(kind, events[at % events.length]);
            poisonIds.push(poison.headers.ce_id);
            deliveries.splice(at % (deliveries.length + 1), 0, poison);
          }
          const messages = records(TOPICS.stock, shard, deliveries);
          // Cut into Kafka batches of the drawn sizes (the last takes the rest).
          for (let start = 0, b = 0; start < messages.length; b++) {
            const end = b < sizes.length - 1 ? Math.min(messages.length, start + sizes[b]) : messages.length;
            const batch = {
              topic: TOPICS.stock,
              partition: shard,
              messages: messages.slice(start, end),
              highWatermark: messages.at(-1)!.offset,
            };
            const next = await replicator.apply(batch);
            expect(next).toEqual({ topic: TOPICS.stock, partition: shard, offset: String(BigInt(batch.messages.at(-1)!.offset) + 1n) });
            // Kafka may deliver a batch again (a rebalance, a lost commit): it is skipped, not applied twice.
            if (redeliver) expect(await replicator.apply(batch)).toEqual(next);
            start = end;
          }
          for (const [i, sku] of skus.entries()) {
            const final = histories[i].at(-1)!;
            expect(await replicaRow('fra-9', sku)).toEqual({
              on_hand: String(final.onHand),
              reserved: String(final.reserved),
              version: String(final.version),
            });
          }
          const [position] = await databases.read(databases.databaseFor(shard), (tx) =>
            tx.query<{ next_offset: string }>(`SELECT next_offset FROM consumer_positions WHERE topic = $1 AND partition = $2`, [
              TOPICS.stock,
              shard,
            ]),
          );
          expect(position.next_offset).toBe(String(BigInt(messages.at(-1)!.offset) + 1n));
        },
      ),
      { numRuns: 40 },
    );

    // Every poison record reached the dead-letter topic exactly once (no crash here to repeat one).
    const kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${prefix}dlt-check`, maxWaitTimeInMs: 100 });
    const seen: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: prefix + TOPICS.deadLetter, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.headers?.ce_id?.toString() ?? '') });
      await waitFor(async () => (seen.length >= poisonIds.length ? true : undefined), {
        what: `${poisonIds.length} dead letters`,
        describe: async () => `${seen.length} seen`,
      });
    } finally {
      await consumer.disconnect();
    }
    expect([...seen].sort()).toEqual([...poisonIds].sort());
  }, 300_000);

  it('counts each dead letter once, although the passes that name a refused record roll back and read the batch again', async () => {
    const replicator = region.app.get(Replicator);
    const deadLetters = async (reason: string): Promise<number> => {
      const text = await (await fetch(`${region.internalUrl}/metrics`)).text();
      return parseExposition(text).sum('stockmesh_dead_letters_total', { consumer: 'replica', reason });
    };
    const before = { invalid: await deadLetters('invalid_event'), refused: await deadLetters('database_refused') };
    const shard = 5;
    const [sku] = skusOfShard('SKU-DLC', shard, 1);
    const [first, second] = history('fra-9', sku, [4, 3]);
    // A record that is not an event, then one PostgreSQL refuses: the set-based pass rolls back,
    // the one-by-one pass names the refused record and rolls back, the last pass commits.
    const messages = records(TOPICS.stock, shard, [
      stockRecord(first),
      poisonRecord(0, first),
      poisonRecord(2, first),
      stockRecord(second),
    ]);
    await replicator.apply({ topic: TOPICS.stock, partition: shard, messages, highWatermark: messages.at(-1)!.offset });
    expect(await replicaRow('fra-9', sku)).toEqual({ on_hand: '7', reserved: '1', version: '2' });
    expect(await deadLetters('invalid_event')).toBe(before.invalid + 1);
    expect(await deadLetters('database_refused')).toBe(before.refused + 1);
  });
});
