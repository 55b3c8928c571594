import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, divergence, startTestCluster, testKafka, waitFor, type TestCluster } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';

// Defect 5 of issue 9: a region that falls behind the live stock topic's retention used to skip
// the missing records with one log line, and the rows last changed in them stayed stale for
// good. Three regions as real processes; anti-entropy is set far apart so that only the gap
// repair can bring the rows back within this test.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const WAREHOUSE: Record<string, string> = { 'us-east': 'nyc-1', 'eu-west': 'fra-1', 'ap-south': 'bom-1' };
const SKUS = Array.from({ length: 12 }, (_, i) => `SKU-G${i}`);
const regions = (): { id: string; url: string }[] => REGIONS.map((id) => ({ id, url: t.url(id) }));
const at = (id: string): { url: string } => ({ url: t.url(id) });

async function expectConverged(what: string): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => {
      last = await divergence(regions(), SKUS);
      return last.length === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what, describe: () => Promise.resolve(last.slice(0, 10).join('\n')) },
  );
}

async function outboxDrained(region: string): Promise<void> {
  await waitFor(
    async () => ((await call<{ outboxPending: number }>(at(region), 'GET', '/v1/cluster')).body.outboxPending === 0 ? true : undefined),
    { what: `${region}'s outbox to drain` },
  );
}

beforeAll(async () => {
  t = await startTestCluster('gap', { STOCKMESH_HEARTBEAT_MS: '500', STOCKMESH_ANTI_ENTROPY_MS: '86400000' });
  for (const region of REGIONS) {
    expect((await call(at(region), 'PUT', `/v1/warehouses/${WAREHOUSE[region]}`, { body: { region, name: region } })).status).toBe(201);
  }
  for (const region of REGIONS) {
    await waitFor(
      async () => ((await call<{ items: unknown[] }>(at(region), 'GET', '/v1/warehouses')).body.items.length === 3 ? true : undefined),
      { what: `${region} to know every warehouse` },
    );
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('a replica behind the live topic’s retention', () => {
  it('repairs the rows whose changes retention removed, and counts the gap', async () => {
    for (const sku of SKUS) {
      for (const region of REGIONS) {
        expect((await call(at(region), 'PUT', `/v1/warehouses/${WAREHOUSE[region]}/stock/${sku}`, { body: { onHand: 5 } })).status).toBe(
          200,
        );
      }
    }
    await expectConverged('every region to converge before the gap');

    // ap-south is away while eu-west's rows change, and retention then removes those changes.
    await t.cluster.stopRegion('ap-south');
    for (const sku of SKUS) {
      const answer = await call(at('eu-west'), 'POST', `/v1/warehouses/fra-1/stock/${sku}/adjustments`, {
        body: { delta: 7, reason: 'received' },
      });
      expect(answer.status).toBe(201);
    }
    await outboxDrained('eu-west');
    const admin = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const topic = `${t.topicPrefix}stockmesh.stock.v1`;
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.deleteTopicRecords({ topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
      const after = await admin.fetchTopicOffsets(topic);
      expect(after.every((p) => p.low === p.high)).toBe(true);
    } finally {
      await admin.disconnect();
    }

    await t.cluster.startRegion('ap-south');
    // Nothing is written after the gap: ap-south must notice it without a later record.
    await expectConverged('ap-south to repair the rows whose changes it never received');

    const cluster = await call<{ regions: { region: string; replicaChecks: { gapsRepaired: number; rowsRepaired: number } | null }[] }>(
      at('ap-south'),
      'GET',
      '/v1/cluster',
    );
    const euWest = cluster.body.regions.find((r) => r.region === 'eu-west');
    expect(euWest?.replicaChecks?.gapsRepaired).toBeGreaterThanOrEqual(1);
    expect(euWest?.replicaChecks?.rowsRepaired).toBe(SKUS.length);
  }, 180_000);
});
