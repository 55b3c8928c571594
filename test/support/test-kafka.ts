import { kafkaPrincipalOfRegion, readKafkaCredentials } from '@stockmesh/config';
import { TOPICS } from '@stockmesh/contracts';
import type { Kafka, Producer } from 'kafkajs';
import { waitFor } from './wait-for.js';

/**
 * Where the tests' broker is, and as whom to talk to it. `npm test` sets
 * STOCKMESH_KAFKA_CREDENTIALS to the credentials file of kafka.sh's broker when it uses that
 * broker and the broker runs with SASL; without it (an external plaintext cluster named by
 * KAFKA_BROKERS) every client connects without authentication.
 */
export interface TestKafka {
  readonly brokers: string[];
  /** kafkajs's `sasl` option for the principal asked for, or `undefined` on a plaintext broker. */
  readonly sasl?: { readonly mechanism: 'scram-sha-512'; readonly username: string; readonly password: string };
}

export function testBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
}

/** Whether the tests' broker authenticates its clients (and enforces ACLs). */
export function testKafkaIsSecured(): boolean {
  return Boolean(process.env.STOCKMESH_KAFKA_CREDENTIALS);
}

/** The broker as `principal` (default the broker's admin, which tests use to forge and inspect records). */
export function testKafka(principal = 'admin'): TestKafka {
  const file = process.env.STOCKMESH_KAFKA_CREDENTIALS;
  if (!file) return { brokers: testBrokers() };
  const password = readKafkaCredentials(file).users[principal];
  if (password === undefined) throw new Error(`${file} has no password for ${principal}`);
  return { brokers: testBrokers(), sasl: { mechanism: 'scram-sha-512', username: principal, password } };
}

/** The KAFKA_SASL_* variables of a region's own principal, or none on a plaintext broker. */
export function regionKafkaEnv(regionId: string): Record<string, string> {
  if (!testKafkaIsSecured()) return {};
  const principal = kafkaPrincipalOfRegion(regionId);
  const { sasl } = testKafka(principal);
  return sasl ? { KAFKA_SASL_USERNAME: sasl.username, KAFKA_SASL_PASSWORD: sasl.password } : {};
}

/**
 * A producer on `kafka` for a test that plays other regions on a region's topics (`prefix`), once
 * the region has created them: producing earlier would let the broker auto-create them.
 */
export async function producerOnRegionTopics(kafka: Kafka, prefix: string): Promise<Producer> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(async () => ((await admin.listTopics()).includes(prefix + TOPICS.deadLetter) ? true : undefined), {
      what: 'the region to create its topics',
    });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}
