import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadAppConfig, type AppConfig } from '@stockmesh/config';
import { dropDatabases, provisionDatabases, ShardDatabases } from '@stockmesh/persistence';
import { call, regionKafkaEnv, TEST_ADMIN_KEY, testDatabaseUrl, testKafka, throwawayPrefix, waitFor } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { createRegionApp } from '../../apps/region/src/region-app.js';

// Two instances of one region share its databases, each running the outbox relay: every
// change is published exactly once, and in version order per row, whichever instance wrote it.
const prefix = throwawayPrefix('relay');
const topicPrefix = `${prefix.replace(/_/g, '-')}.`;
let config: AppConfig;
const instances: { app: NestFastifyApplication; url: string }[] = [];

beforeAll(async () => {
  config = loadAppConfig({
    STOCKMESH_REGION: 'us-east',
    STOCKMESH_DB_PREFIX: prefix,
    DATABASE_URL: testDatabaseUrl(),
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: topicPrefix,
    LOG_LEVEL: 'warn',
    // The key `call` sends.
    STOCKMESH_ADMIN_KEY: TEST_ADMIN_KEY,
    ...regionKafkaEnv('us-east'),
  });
  await provisionDatabases(config.region.databases);
  for (let i = 0; i < 2; i++) {
    const app = await createRegionApp(config, { swaggerUi: false });
    await app.listen(0, '127.0.0.1');
    instances.push({ app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') });
  }
}, 60_000);

afterAll(async () => {
  for (const { app } of instances) await app.close();
  await dropDatabases(config.region.databases.map((d) => d.url));
}, 60_000);

describe('the outbox relay with two instances of a region', () => {
  it('publishes every change exactly once, in version order per row', async () => {
    const skus = Array.from({ length: 20 }, (_, i) => `SKU-O${i}`);
    expect((await call(instances[0], 'PUT', '/v1/warehouses/nyc-1', { body: { region: 'us-east', name: 'NYC' } })).status).toBe(201);
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(
        skus.map((sku, i) =>
          call(instances[(i + round) % 2], 'POST', `/v1/warehouses/nyc-1/stock/${sku}/adjustments`, {
            body: { delta: 1, reason: 'received' },
          }),
        ),
      );
      expect(answers.every((a) => a.status === 201)).toBe(true);
    }

    const kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${topicPrefix}check`, maxWaitTimeInMs: 100 });
    const seen = new Map<string, number[]>();
    let events = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: `${topicPrefix}stockmesh.stock.v1`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const data = JSON.parse(message.value?.toString() ?? '{}') as { sku: string; version: number };
        events++;
        seen.set(data.sku, [...(seen.get(data.sku) ?? []), data.version]);
      },
    });
    try {
      await waitFor(async () => (events >= 200 ? true : undefined), {
        timeoutMs: 30_000,
        what: '200 events',
        describe: async () => `${events} events`,
      });
      // Anything published twice would arrive within a few more fetches.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    } finally {
      await consumer.disconnect();
    }
    expect(events).toBe(200);
    for (const sku of skus) expect(seen.get(sku)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const databases = instances[0].app.get(ShardDatabases);
    for (const db of databases.all()) {
      const [{ n }] = await databases.read(db, (tx) => tx.query<{ n: string }>('SELECT count(*) AS n FROM outbox'));
      expect(n).toBe('0');
    }
  }, 90_000);
});
