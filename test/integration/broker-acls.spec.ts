import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TOPICS } from '@stockmesh/contracts';
import { testBrokers, testKafka, testKafkaIsSecured, throwawayPrefix, waitFor } from '@stockmesh/testing';
import { execFileSync } from 'node:child_process';
import { Kafka, logLevel, type Admin } from 'kafkajs';

// The local broker as kafka.sh runs it: SASL/SCRAM-SHA-512 and ACLs (infra/kafka/acls.mjs). Only
// meaningful against that broker, so skipped on a plaintext one (e.g. KAFKA_BROKERS naming an
// external cluster without authentication).
const secured = testKafkaIsSecured() ? describe : describe.skip;
const prefix = `${throwawayPrefix('acl').replace(/_/g, '-')}.`;
const topic = (name: string): string => prefix + name;
let admin: Admin;

/** A client that gives up at once: refusals are answers here, not reasons to retry. */
function client(principal?: string, password?: string): Kafka {
  const sasl = principal ? { ...testKafka(principal).sasl!, ...(password ? { password } : {}) } : undefined;
  return new Kafka({ brokers: testBrokers(), sasl, logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 0 } });
}

async function produce(kafka: Kafka, to: string, value: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic: to, messages: [{ key: 'k', value }] });
  } finally {
    await producer.disconnect();
  }
}

/** Reads `from` with `groupId` until a record with `value` arrives; rejects with the broker's refusal. */
async function consume(kafka: Kafka, from: string, groupId: string, value: string): Promise<void> {
  // Retries find the group's coordinator (on a new broker the offsets topic is made by the first
  // group that asks, which takes a few seconds); a refusal (not retriable) crashes the consumer for good.
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    retry: { retries: 20, maxRetryTime: 2_000, restartOnFailure: async () => false },
  });
  const seen: string[] = [];
  let failure: Error | undefined;
  consumer.on(consumer.events.CRASH, ({ payload }) => (failure = payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: from, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value?.toString() ?? '') });
    await waitFor(
      async () => {
        if (failure) throw failure;
        return seen.includes(value) ? true : undefined;
      },
      { what: `${value} to be read from ${from}` },
    );
  } finally {
    await consumer.disconnect();
  }
}

secured('the secured local broker', () => {
  beforeAll(async () => {
    // The principals' ACLs for this suite's topic prefix, granted as kafka.sh grants them.
    execFileSync(
      process.execPath,
      [
        'infra/kafka/acls.mjs',
        ...['--brokers', testBrokers().join(','), '--credentials', process.env.STOCKMESH_KAFKA_CREDENTIALS!],
        ...['--regions', 'us-east,eu-west,ap-south', '--topic-prefix', prefix],
      ],
      { stdio: 'inherit' },
    );
    admin = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [TOPICS.stock, TOPICS.commands].map((name) => ({ topic: topic(name), numPartitions: 1 })) });
    // On a new broker the first group lookup makes the offsets topic, which takes a moment; the
    // clients under test give up at once, so the admin (which retries) makes it first.
    await admin.describeGroups([topic('warm-up')]);
  }, 60_000);

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [TOPICS.stock, TOPICS.commands].map(topic) }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('refuses a client without credentials, and one with a wrong password', async () => {
    const anonymous = client().admin({ retry: { retries: 0 } });
    await expect(anonymous.connect().then(() => anonymous.describeCluster())).rejects.toThrow();
    await anonymous.disconnect();
    const wrong = client('region-us-east', 'not-the-password').admin({ retry: { retries: 0 } });
    await expect(wrong.connect()).rejects.toThrow(/SASL|authenticat/i);
    await wrong.disconnect();
  });

  it('lets a region principal produce to and consume its topics', async () => {
    const region = client('region-us-east');
    await produce(region, topic(TOPICS.stock), 'from-us-east');
    await consume(region, topic(TOPICS.stock), topic('stockmesh.replica.us-east'), 'from-us-east');
  }, 60_000);

  it('lets the external principal write commands but not stock, and read events with its own groups only', async () => {
    const external = client('external');
    await produce(external, topic(TOPICS.commands), 'a-command');
    await expect(produce(external, topic(TOPICS.stock), 'forged')).rejects.toThrow(/authoriz/i);
    await produce(client('region-eu-west'), topic(TOPICS.stock), 'from-eu-west');
    await consume(external, topic(TOPICS.stock), topic('external.reader'), 'from-eu-west');
    // A group outside its prefix: the broker refuses to name its coordinator (kafkajs reports it so).
    await expect(consume(external, topic(TOPICS.stock), topic('stockmesh.replica.us-east'), 'from-eu-west')).rejects.toThrow(
      /authoriz|Failed to find group coordinator/i,
    );
  }, 60_000);
});
