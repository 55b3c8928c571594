import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TOPICS } from '@stockmesh/contracts';
import { call, globalView, parseExposition, startTestCluster, testKafka, viewDiff, waitFor, type TestCluster } from '@stockmesh/testing';
import { execFileSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

// Three regions as real processes replicating through the real broker.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const WAREHOUSES: Record<string, string[]> = {
  'us-east': ['nyc-1', 'atl-1'],
  'eu-west': ['fra-1', 'dub-1'],
  'ap-south': ['bom-1', 'sin-1'],
};
const SKUS = Array.from({ length: 40 }, (_, i) => `SKU-R${i}`);
const at = (id: string): { url: string } => ({ url: t.url(id) });

/** Random counts and adjustments in every region at once; resolves the number accepted. */
async function writeEverywhere(count: number, seed: number): Promise<number> {
  let accepted = 0;
  let x = seed;
  // A small LCG; its low bits repeat quickly, so the choice comes from the high bits.
  const next = (n: number): number => Math.floor((x = (x * 1103515245 + 12345) % 2147483648) / 65536) % n;
  // Thunks, so that the requests go out 20 at a time rather than all at once.
  const writes = Array.from({ length: count }, () => {
    const region = REGIONS[next(3)];
    const warehouse = WAREHOUSES[region][next(2)];
    const sku = SKUS[next(SKUS.length)];
    return next(4) === 0
      ? (): ReturnType<typeof call> => call(at(region), 'PUT', `/v1/warehouses/${warehouse}/stock/${sku}`, { body: { onHand: next(500) } })
      : (): ReturnType<typeof call> =>
          call(at(region), 'POST', `/v1/warehouses/${warehouse}/stock/${sku}/adjustments`, {
            body: { delta: 1 + next(20), reason: 'received' },
          });
  });
  for (let i = 0; i < writes.length; i += 20) {
    const answers = await Promise.all(writes.slice(i, i + 20).map((write) => write()));
    accepted += answers.filter((a) => a.status === 200 || a.status === 201).length;
  }
  return accepted;
}

/** Each owner's own rows, read from the owner: the truth every replica must reach. */
async function ownersTruth(): Promise<Map<string, string>> {
  const truth = new Map<string, string>();
  for (const region of REGIONS) {
    const view = await globalView(at(region), SKUS);
    for (const [key, state] of view) if (state.startsWith(`${region}:`)) truth.set(key, state);
  }
  return truth;
}

/** Waits until every region's global view of every SKU equals the owners' rows. */
async function expectConverged(timeoutMs = 60_000): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => {
      const truth = await ownersTruth();
      last = [];
      for (const region of REGIONS) last.push(...viewDiff(truth, await globalView(at(region), SKUS)).map((d) => `${region} ${d}`));
      return last.length === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, what: 'every region to converge', describe: async () => last.slice(0, 10).join('\n') },
  );
}

async function regionDatabases(regionId: string): Promise<string[]> {
  return t.cluster.config.regions.find((r) => r.id === regionId)?.databases.map((d) => d.url) ?? [];
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  t = await startTestCluster('repl', { STOCKMESH_HEARTBEAT_MS: '500' });
  for (const region of REGIONS) {
    for (const id of WAREHOUSES[region]) {
      const answer = await call(at(region), 'PUT', `/v1/warehouses/${id}`, { body: { region, name: id } });
      expect(answer.status).toBe(201);
    }
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('replication through Kafka', () => {
  it('replicates the catalog, so a write sent anywhere reaches its owner', async () => {
    for (const region of REGIONS) {
      await waitFor(
        async () => {
          const list = await call<{ items: { id: string }[] }>(at(region), 'GET', '/v1/warehouses');
          return list.body.items.length === 6 ? true : undefined;
        },
        { what: `${region} to know all six warehouses` },
      );
    }
    const forwarded = await call(at('ap-south'), 'PUT', '/v1/warehouses/fra-1/stock/SKU-R0', { body: { onHand: 5 } });
    expect(forwarded.status).toBe(200);
    expect(forwarded.headers['stockmesh-served-by']).toBe('eu-west');
  }, 60_000);

  it('converges every region on identical global stock after writes in all regions', async () => {
    const accepted = await writeEverywhere(300, 7);
    expect(accepted).toBe(300);
    await expectConverged();
    // Lag comes from heartbeats (every 500 ms here), so the view catches up shortly after the rows.
    let others: { region: string; stale: boolean; eventsBehind: number }[] = [];
    await waitFor(
      async () => {
        const cluster = await call<{ regions: typeof others }>(at('us-east'), 'GET', '/v1/cluster');
        others = cluster.body.regions.filter((r) => r.region !== 'us-east');
        return others.every((r) => !r.stale && r.eventsBehind === 0) ? true : undefined;
      },
      { what: 'us-east to see no lag from the other regions', describe: async () => JSON.stringify(others) },
    );
    for (const r of others) expect(r).toMatchObject({ stale: false, eventsBehind: 0 });
    // The same, as Prometheus sees it on us-east's internal listener (no signature for GET /metrics).
    const metrics = parseExposition(await (await fetch(`${t.internal('us-east').internalUrl}/metrics`)).text());
    for (const source of ['eu-west', 'ap-south']) {
      expect(metrics.sum('stockmesh_replication_lag_events', { source_region: source })).toBe(0);
      expect(metrics.sum('stockmesh_replication_source_stale', { source_region: source })).toBe(0);
      expect(metrics.sum('stockmesh_replication_events_applied_total', { topic: TOPICS.stock, source_region: source })).toBeGreaterThan(0);
    }
    const availability = await call<{ freshness: { region: string; stale: boolean }[]; servedBy: string }>(
      at('eu-west'),
      'GET',
      '/v1/availability/SKU-R1',
    );
    expect(availability.body.servedBy).toBe('eu-west');
    expect(availability.body.freshness.map((f) => f.region).sort()).toEqual(['ap-south', 'us-east']);
  }, 120_000);

  it('loses nothing and applies nothing twice when a region is killed mid-stream', async () => {
    const total = 200;
    const progress = { accepted: 0 };
    const stream = writeEverywhereExcept('ap-south', total, 11, progress);
    // Kill once a part of the stream has been written (so ap-south is applying it) and while the
    // rest is still to come (so events are in flight when it dies), not after a fixed delay.
    await waitFor(async () => (progress.accepted >= 40 ? true : undefined), { what: '40 writes of the stream accepted' });
    await t.cluster.killRegion('ap-south');
    const acceptedAtKill = progress.accepted;
    await stream;
    expect(acceptedAtKill).toBeLessThan(total);
    await t.cluster.startRegion('ap-south');
    await expectConverged();
  }, 120_000);

  // Only the broker `npm test` manages (infra/kafka/kafka.sh) may be stopped; never an external one.
  const withLocalBroker = process.env.STOCKMESH_TEST_LOCAL_KAFKA === 'true' ? it : it.skip;
  withLocalBroker(
    'keeps accepting writes while the broker is down, and converges once it is back',
    async () => {
      // kafka.sh does nothing when KAFKA_BROKERS is set: it must see the local broker's settings only.
      const kafkaSh = (command: string): void => {
        execFileSync('bash', ['infra/kafka/kafka.sh', command], { stdio: 'inherit', env: { ...process.env, KAFKA_BROKERS: '' } });
      };
      kafkaSh('stop');
      try {
        const accepted = await writeEverywhere(60, 23);
        expect(accepted).toBe(60);
        const pending = await call<{ outboxPending: number }>(at('us-east'), 'GET', '/v1/cluster');
        expect(pending.body.outboxPending).toBeGreaterThan(0);
      } finally {
        kafkaSh('start');
      }
      await expectConverged(120_000);
      for (const region of REGIONS) {
        await waitFor(
          async () =>
            (await call<{ outboxPending: number }>(at(region), 'GET', '/v1/cluster')).body.outboxPending === 0 ? true : undefined,
          {
            what: `${region}'s outbox to drain`,
          },
        );
      }
    },
    240_000,
  );

  it('rebuilds a wiped region from the compacted state topic and converges', async () => {
    await t.cluster.stopRegion('eu-west');
    for (const url of await regionDatabases('eu-west')) await sql(url, 'TRUNCATE stock_replica, consumer_positions');
    await writeEverywhereExcept('eu-west', 40, 31);
    await t.cluster.startRegion('eu-west');
    await expectConverged();
  }, 120_000);

  it('dead-letters a malformed record and keeps applying later events', async () => {
    const kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const stockTopic = `${t.topicPrefix}stockmesh.stock.v1`;
    try {
      await producer.send({
        topic: stockTopic,
        messages: [
          {
            partition: 0,
            key: 'SKU-POISON',
            value: '{"this is": not json',
            headers: {
              ce_specversion: '1.0',
              ce_id: 'poison-1',
              ce_source: 'us-east',
              ce_type: 'io.stockmesh.stock.changed.v1',
              ce_time: new Date().toISOString(),
            },
          },
          { partition: 1, key: 'SKU-POISON', value: 'no headers at all' },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const later = await call(at('us-east'), 'POST', '/v1/warehouses/nyc-1/stock/SKU-R3/adjustments', {
      body: { delta: 9, reason: 'received' },
    });
    expect(later.status).toBe(201);
    await expectConverged();

    // Every region consumes the whole topic, so each dead-lettered each bad record, with the reason.
    const consumer = kafka.consumer({ groupId: `${t.topicPrefix}dlt-check`, maxWaitTimeInMs: 100 });
    const seen: { reason: string; offset: string; consumer: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${t.topicPrefix}stockmesh.dead-letter.v1`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = (name: string): string => message.headers?.[name]?.toString() ?? '';
        if (h('dlt_topic') === 'stockmesh.stock.v1')
          seen.push({ reason: h('dlt_reason'), offset: h('dlt_offset'), consumer: h('dlt_consumer') });
      },
    });
    try {
      await waitFor(async () => (seen.length >= 6 ? true : undefined), {
        what: 'six dead letters',
        describe: async () => JSON.stringify(seen),
      });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.some((s) => /not JSON/.test(s.reason))).toBe(true);
    expect(seen.some((s) => /ce_specversion/.test(s.reason))).toBe(true);
    expect(new Set(seen.map((s) => s.consumer))).toEqual(new Set(REGIONS.map((r) => `stockmesh.replica.${r}`)));
  }, 120_000);
});

/** Writes through the regions other than `skip` (it may be down), counting accepted writes in `progress`. */
async function writeEverywhereExcept(skip: string, count: number, seed: number, progress = { accepted: 0 }): Promise<void> {
  let x = seed;
  // A small LCG; its low bits repeat quickly, so the choice comes from the high bits.
  const next = (n: number): number => Math.floor((x = (x * 1103515245 + 12345) % 2147483648) / 65536) % n;
  const regions = REGIONS.filter((r) => r !== skip);
  for (let i = 0; i < count; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const region = regions[next(regions.length)];
        const warehouse = WAREHOUSES[region][next(2)];
        const answer = await call(at(region), 'POST', `/v1/warehouses/${warehouse}/stock/${SKUS[next(SKUS.length)]}/adjustments`, {
          body: { delta: 1 + next(5), reason: 'received' },
        });
        expect(answer.status).toBe(201);
        progress.accepted++;
      }),
    );
  }
}
