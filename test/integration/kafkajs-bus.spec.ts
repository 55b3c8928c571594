import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  KafkaJsBus,
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchHandler,
  type BusLog,
  type MessageBatch,
  type Publisher,
  type TopicAdmin,
  type TopicPartitionOffset,
} from '@stockmesh/messaging';
import { testKafka } from '@stockmesh/testing';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { randomBytes } from 'node:crypto';

// The kafkajs MessageBus against the real broker (`bash infra/kafka/kafka.sh start`). Every run
// makes its own topics and groups, so runs never see each other's records or offsets. The test
// talks to the broker with a plain kafkajs admin too, to check what the bus claims (topic
// configs, committed offsets) from outside the code under test.

// Above jest's 5 s default, which one consumer group join plus a retry pause can come close to.
jest.setTimeout(20_000);

const { brokers, sasl } = testKafka();
const run = randomBytes(4).toString('hex');
const topicName = (name: string): string => `test.bus.${run}.${name}`;
const groupName = (name: string): string => `test.bus.${run}.${name}`;

interface LogEntry {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly msg: string;
  readonly obj: object;
}

/** Keeps what the bus logs, so a test can assert on it and jest's output stays clean. */
const entries: LogEntry[] = [];
const log: BusLog = {
  error: (obj, msg) => void entries.push({ level: 'error', msg, obj }),
  warn: (obj, msg) => void entries.push({ level: 'warn', msg, obj }),
  info: (obj, msg) => void entries.push({ level: 'info', msg, obj }),
  debug: (obj, msg) => void entries.push({ level: 'debug', msg, obj }),
};

const bus = new KafkaJsBus({ brokers, sasl, clientId: `test-bus-${run}`, log });
let admin: TopicAdmin;
let publisher: Publisher;
/** Independent of the bus: checks configs and committed offsets as the broker sees them. */
let probe: Admin;
const createdTopics: string[] = [];
const usedGroups: string[] = [];

/** Polls `condition` until it holds; fails with `what` after the deadline. No fixed sleeps. */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function freshTopic(name: string, partitions: number): Promise<string> {
  const topic = topicName(name);
  createdTopics.push(topic);
  await admin.ensureTopics([{ topic, partitions }]);
  return topic;
}

/** Committed offsets of a group on a topic, by partition, as the broker reports them. */
async function committed(groupId: string, topic: string): Promise<Map<number, string>> {
  const [found] = await probe.fetchOffsets({ groupId, topics: [topic] });
  return new Map((found?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

async function waitForCommitted(groupId: string, topic: string, expected: Record<number, string>): Promise<void> {
  let last = new Map<number, string>();
  await waitFor(`group ${groupId} to commit ${JSON.stringify(expected)}`, async () => {
    last = await committed(groupId, topic);
    return Object.entries(expected).every(([partition, offset]) => last.get(Number(partition)) === offset);
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last seen ${JSON.stringify([...last])}`);
  });
}

/** A started consumer that records every batch handed to the handler, in the order seen. */
interface Recorder {
  readonly consumer: BatchConsumer;
  readonly batches: MessageBatch[];
  /** The offsets delivered for one partition, concatenated in delivery order. */
  offsets(partition: number): string[];
  count(): number;
}

async function startRecorder(
  options: Omit<BatchConsumerOptions, 'groupId'> & { readonly group: string },
  handler: BatchHandler = async () => undefined,
): Promise<Recorder> {
  const groupId = groupName(options.group);
  usedGroups.push(groupId);
  const batches: MessageBatch[] = [];
  const consumer = bus.consumer({ maxWaitMs: 50, ...options, groupId });
  await consumer.start(async (batch) => {
    batches.push(batch);
    return handler(batch);
  });
  return {
    consumer,
    batches,
    offsets: (partition) => batches.filter((b) => b.partition === partition).flatMap((b) => b.messages.map((m) => m.offset)),
    count: () => batches.reduce((n, b) => n + b.messages.length, 0),
  };
}

/** Lets a member of `group` consume and commit up to `upTo` (per partition), then stops it. */
async function commitUpTo(group: string, topic: string, upTo: Record<number, string>): Promise<void> {
  const recorder = await startRecorder({ group, topics: [topic], fromBeginning: true });
  try {
    await waitForCommitted(groupName(group), topic, upTo);
  } finally {
    await recorder.consumer.stop();
  }
}

const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => String(from + i));

beforeAll(async () => {
  admin = await bus.admin();
  publisher = await bus.publisher();
  probe = new Kafka({ clientId: `test-bus-probe-${run}`, brokers, sasl, logLevel: logLevel.NOTHING }).admin();
  await probe.connect();
}, 30_000);

afterAll(async () => {
  try {
    await publisher?.close();
    if (usedGroups.length > 0) await probe.deleteGroups([...new Set(usedGroups)]);
    if (createdTopics.length > 0) await probe.deleteTopics({ topics: createdTopics });
  } finally {
    await probe?.disconnect();
    await admin?.close();
  }
}, 30_000);

describe('TopicAdmin', () => {
  it('creates topics with their partitions and configs, is idempotent, and refuses another partition count', async () => {
    const compacted = topicName('admin.compacted');
    const plain = topicName('admin.plain');
    createdTopics.push(compacted, plain);
    const specs = [
      { topic: compacted, partitions: 3, config: { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.2' } },
      { topic: plain, partitions: 1 },
    ];

    await admin.ensureTopics(specs);

    expect((await admin.offsets(compacted)).map((o) => o.partition)).toEqual([0, 1, 2]);
    expect((await admin.offsets(plain)).map((o) => o.partition)).toEqual([0]);
    const { resources } = await probe.describeConfigs({
      includeSynonyms: false,
      resources: [compacted, plain].map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['cleanup.policy', 'min.cleanable.dirty.ratio'],
      })),
    });
    const config = (topic: string, name: string): string | undefined =>
      resources.find((r) => r.resourceName === topic)?.configEntries.find((e) => e.configName === name)?.configValue;
    expect(config(compacted, 'cleanup.policy')).toBe('compact');
    expect(config(compacted, 'min.cleanable.dirty.ratio')).toBe('0.2');
    expect(config(plain, 'cleanup.policy')).toBe('delete');

    // Idempotent: the same specs again change nothing and do not throw.
    await admin.ensureTopics(specs);
    expect(await admin.offsets(compacted)).toHaveLength(3);

    await expect(admin.ensureTopics([{ topic: compacted, partitions: 4 }])).rejects.toThrow(
      `topic ${compacted} has 3 partitions, expected 4`,
    );
    await expect(
      admin.ensureTopics([
        { topic: plain, partitions: 1 },
        { topic: compacted, partitions: 2 },
      ]),
    ).rejects.toThrow('expected 2');
    expect(await admin.offsets(compacted)).toHaveLength(3);
  });

  it('reports low and high offsets per partition and the number of brokers', async () => {
    const topic = await freshTopic('admin.offsets', 2);
    expect(await admin.offsets(topic)).toEqual([
      { partition: 0, low: '0', high: '0' },
      { partition: 1, low: '0', high: '0' },
    ]);

    await publisher.publish(range(0, 3).map((i) => ({ topic, key: `k${i}`, value: `v${i}`, partition: 0 })));

    expect(await admin.offsets(topic)).toEqual([
      { partition: 0, low: '0', high: '3' },
      { partition: 1, low: '0', high: '0' },
    ]);
    expect(await admin.brokers()).toBeGreaterThanOrEqual(1);
  });
});

describe('Publisher', () => {
  it('returns the last offset per partition for explicit partitions', async () => {
    const topic = await freshTopic('publish.explicit', 2);
    // Interleaved on purpose: the count per partition must not depend on the order.
    const positions = await publisher.publish([
      { topic, key: 'a', value: 'a0', partition: 0 },
      { topic, key: 'b', value: 'b0', partition: 1 },
      { topic, key: 'a', value: 'a1', partition: 0 },
      { topic, key: 'b', value: 'b1', partition: 1 },
      { topic, key: 'a', value: 'a2', partition: 0 },
    ]);
    expect([...positions].sort((x, y) => x.partition - y.partition)).toEqual([
      { topic, partition: 0, lastOffset: '2' },
      { topic, partition: 1, lastOffset: '1' },
    ]);

    expect(await publisher.publish([{ topic, key: 'a', value: 'a3', partition: 0 }])).toEqual([{ topic, partition: 0, lastOffset: '3' }]);
    expect(await publisher.publish([])).toEqual([]);
  });

  it('returns the last offset per partition when the key chooses the partition', async () => {
    const topic = await freshTopic('publish.keyed', 3);
    const positions = await publisher.publish(range(0, 3).map((i) => ({ topic, key: 'sku-1', value: `v${i}` })));
    expect(positions).toHaveLength(1);
    expect(positions[0].lastOffset).toBe('2');

    // The position names the partition that really holds the records.
    const offsets = await admin.offsets(topic);
    expect(offsets.find((o) => o.partition === positions[0].partition)?.high).toBe('3');
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(3);
  });
});

describe('BatchConsumer', () => {
  it('delivers every record in offset order with its key, value and headers, and a new member resumes after the committed offset', async () => {
    const topic = await freshTopic('consume.order', 2);
    const publishedAt = Date.now();
    await publisher.publish([
      ...range(0, 5).map((i) => ({
        topic,
        key: `p0-${i}`,
        value: `value ${i}`,
        headers: { 'event-type': 'stock.changed.v1', seq: i },
        partition: 0,
      })),
      ...range(0, 3).map((i) => ({
        topic,
        key: i === '1' ? null : `p1-${i}`,
        value: i === '2' ? null : Buffer.from([0, 255, Number(i)]),
        partition: 1,
      })),
    ]);

    const first = await startRecorder({ group: 'order', topics: [topic], fromBeginning: true });
    try {
      await waitFor('8 records', () => first.count() >= 8);
      // Committed as far as handled, and only after the handler resolved: all of it.
      await waitForCommitted(groupName('order'), topic, { 0: '5', 1: '3' });
    } finally {
      await first.consumer.stop();
    }

    expect(first.offsets(0)).toEqual(range(0, 5));
    expect(first.offsets(1)).toEqual(range(0, 3));
    for (const batch of first.batches) {
      expect(batch.topic).toBe(topic);
      expect(batch.messages.length).toBeGreaterThan(0);
      expect(batch.highWatermark).toBe(batch.partition === 0 ? '5' : '3');
      for (const m of batch.messages) {
        expect(m.topic).toBe(topic);
        expect(m.partition).toBe(batch.partition);
        expect(m.timestamp).toBeGreaterThanOrEqual(publishedAt - 1_000);
      }
    }
    const messages = first.batches.flatMap((b) => b.messages);
    const p0 = messages.filter((m) => m.partition === 0);
    expect(p0.map((m) => m.key)).toEqual(range(0, 5).map((i) => `p0-${i}`));
    expect(p0.map((m) => m.value?.toString())).toEqual(range(0, 5).map((i) => `value ${i}`));
    expect(p0.map((m) => m.headers)).toEqual(range(0, 5).map((i) => ({ 'event-type': 'stock.changed.v1', seq: i })));
    const p1 = messages.filter((m) => m.partition === 1);
    expect(p1.map((m) => m.key)).toEqual(['p1-0', null, 'p1-2']);
    expect(p1.map((m) => m.value)).toEqual([Buffer.from([0, 255, 0]), Buffer.from([0, 255, 1]), null]);
    expect(p1.map((m) => m.headers)).toEqual([{}, {}, {}]);

    // New records after the stop; a new member of the same group gets exactly those.
    await publisher.publish([
      { topic, key: 'p0-5', value: 'value 5', partition: 0 },
      { topic, key: 'p0-6', value: 'value 6', partition: 0 },
      { topic, key: 'p1-3', value: 'value 3', partition: 1 },
    ]);
    const second = await startRecorder({ group: 'order', topics: [topic], fromBeginning: true });
    try {
      await waitFor('3 new records', () => second.count() >= 3);
      await waitForCommitted(groupName('order'), topic, { 0: '7', 1: '4' });
    } finally {
      await second.consumer.stop();
    }
    // A partition's records arrive in order, so any redelivery would come before the new ones.
    expect(second.offsets(0)).toEqual(['5', '6']);
    expect(second.offsets(1)).toEqual(['3']);
  });

  it('commits a batch that is in the handler when stop() is called', async () => {
    const topic = await freshTopic('consume.stop', 1);
    await publisher.publish(range(0, 3).map((i) => ({ topic, key: 'k', value: `v${i}`, partition: 0 })));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const recorder = await startRecorder({ group: 'stop', topics: [topic], fromBeginning: true }, async () => {
      await released;
      return undefined;
    });
    try {
      await waitFor('the batch in the handler', () => recorder.count() >= 3);
      // Nothing is committed while the handler still works on the batch.
      expect(await committed(groupName('stop'), topic)).toEqual(new Map([[0, '-1']]));
    } finally {
      const stopped = recorder.consumer.stop();
      // Let stop() begin while the handler still holds the batch, then let the handler finish.
      await sleep(100);
      release();
      await stopped;
    }
    expect(await committed(groupName('stop'), topic)).toEqual(new Map([[0, '3']]));
  });

  it('redelivers a batch whose handler threw, skipping nothing, then commits it', async () => {
    const topic = await freshTopic('consume.throws', 1);
    await publisher.publish(range(0, 4).map((i) => ({ topic, key: 'k', value: `v${i}`, partition: 0 })));
    const failed: string[][] = [];
    const handled: string[][] = [];
    const committedAtCall: Map<number, string>[] = [];
    const recorder = await startRecorder({ group: 'throws', topics: [topic], fromBeginning: true }, async (batch) => {
      committedAtCall.push(await committed(groupName('throws'), topic));
      const offsets = batch.messages.map((m) => m.offset);
      if (failed.length === 0) {
        failed.push(offsets);
        throw new Error('database unavailable');
      }
      handled.push(offsets);
      return undefined;
    });
    try {
      await waitFor('the redelivered batch', () => handled.flat().includes('3'));
      await waitForCommitted(groupName('throws'), topic, { 0: '4' });
    } finally {
      await recorder.consumer.stop();
    }
    expect(failed).toHaveLength(1);
    expect(failed[0][0]).toBe('0');
    // The redelivery starts where the failed batch started, and covers every record once.
    expect(handled[0][0]).toBe(failed[0][0]);
    expect(handled.flat()).toEqual(range(0, 4));
    // The failed batch was not committed.
    expect(committedAtCall[1].get(0)).toBe('-1');
  });

  it('redelivers from the offset a handler returns ("seek back"), and commits only that far', async () => {
    const topic = await freshTopic('consume.seekback', 1);
    await publisher.publish(range(0, 3).map((i) => ({ topic, key: 'k', value: `v${i}`, partition: 0 })));
    const groupId = groupName('seekback');
    const committedAtCall: Map<number, string>[] = [];
    let call = 0;
    const recorder = await startRecorder(
      { group: 'seekback', topics: [topic], fromBeginning: true },
      async (batch): Promise<TopicPartitionOffset | undefined> => {
        committedAtCall.push(await committed(groupId, topic));
        call += 1;
        const at = (offset: string): TopicPartitionOffset => ({ topic: batch.topic, partition: batch.partition, offset });
        // 1st: handled nothing, read it all again; 2nd: handled 0 and 1 only; then everything.
        if (call === 1) return at(batch.messages[0].offset);
        if (call === 2) return at('2');
        return undefined;
      },
    );
    try {
      await waitFor('three deliveries', () => recorder.batches.length >= 3);
      await waitForCommitted(groupId, topic, { 0: '3' });
    } finally {
      await recorder.consumer.stop();
    }
    const deliveries = recorder.batches.map((b) => b.messages.map((m) => m.offset));
    expect(deliveries[0]).toEqual(['0', '1', '2']);
    expect(deliveries[1]).toEqual(['0', '1', '2']);
    expect(deliveries[2]).toEqual(['2']);
    expect(deliveries).toHaveLength(3);
    // What the handler returned is what was committed: 0 after the first call, 2 after the second.
    expect(committedAtCall[1].get(0)).toBe('0');
    expect(committedAtCall[2].get(0)).toBe('2');
  });

  it('seeks to the positions positionsFor returns, before handing any batch to the handler', async () => {
    const topic = await freshTopic('consume.positions', 2);
    await publisher.publish([
      ...range(0, 4).map((i) => ({ topic, key: 'a', value: `a${i}`, partition: 0 })),
      { topic, key: 'b', value: 'b0', partition: 1 },
    ]);
    const groupId = groupName('positions');
    // Kafka's committed offsets: at the end of partition 0, before the last record of partition 1.
    await commitUpTo('positions', topic, { 0: '4', 1: '1' });
    await publisher.publish([{ topic, key: 'b', value: 'b1', partition: 1 }]);

    const asked: { topic: string; partition: number }[][] = [];
    const recorder = await startRecorder({
      group: 'positions',
      topics: [topic],
      fromBeginning: false,
      // The database says: nothing applied yet. It answers slowly, like a real one under load.
      positionsFor: async (assigned) => {
        asked.push([...assigned]);
        await sleep(300);
        return assigned.map((tp) => ({ ...tp, offset: '0' }));
      },
    });
    try {
      await waitFor('every record again', () => recorder.offsets(0).length >= 4 && recorder.offsets(1).length >= 2);
      await waitForCommitted(groupId, topic, { 0: '4', 1: '2' });
    } finally {
      await recorder.consumer.stop();
    }
    expect(asked).toEqual([
      [
        { topic, partition: 0 },
        { topic, partition: 1 },
      ],
    ]);
    // Exactly from 0: nothing from Kafka's own offset slipped in before the seek.
    expect(recorder.offsets(0)).toEqual(range(0, 4));
    expect(recorder.offsets(1)).toEqual(range(0, 2));
  });

  it('hands no batch to the handler until positionsFor has succeeded', async () => {
    const topic = await freshTopic('consume.positions-fail', 1);
    await publisher.publish(range(0, 2).map((i) => ({ topic, key: 'a', value: `a${i}`, partition: 0 })));
    const groupId = groupName('positions-fail');
    await commitUpTo('positions-fail', topic, { 0: '2' });
    await publisher.publish([{ topic, key: 'a', value: 'a2', partition: 0 }]);

    let calls = 0;
    const recorder = await startRecorder({
      group: 'positions-fail',
      topics: [topic],
      fromBeginning: false,
      positionsFor: async (assigned) => {
        calls += 1;
        if (calls === 1) throw new Error('database unavailable');
        return assigned.map((tp) => ({ ...tp, offset: '1' }));
      },
    });
    try {
      await waitFor('records from the loaded position', () => recorder.offsets(0).includes('2'));
      await waitForCommitted(groupId, topic, { 0: '3' });
    } finally {
      await recorder.consumer.stop();
    }
    expect(calls).toBe(2);
    expect(recorder.offsets(0)).toEqual(['1', '2']);
    expect(entries.some((e) => e.level === 'error' && e.msg.includes('consumer positions'))).toBe(true);
  });
});
