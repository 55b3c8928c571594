import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { shardOf } from '@stockmesh/sharding';
import { call, divergence, startTestCluster, testKafka, waitFor, type TestCluster } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { readFileSync } from 'node:fs';
import pg from 'pg';

// Anti-entropy across three regions as real processes, with a digest every second: replica rows
// damaged directly in PostgreSQL (a changed on-hand, a deleted row, a row the owner never had,
// a raised version, a changed safety stock, forged incoming receipts) are found and repaired in
// every region, without a restart, while writes go on.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const WAREHOUSES: Record<string, string[]> = {
  'us-east': ['nyc-1', 'atl-1'],
  'eu-west': ['fra-1', 'dub-1'],
  'ap-south': ['bom-1', 'sin-1'],
};
const SHARDS = 16;
const INTERVAL_MS = 1_000;
/** Rows that get damaged; nothing writes them after the start, so only a repair mends them. */
const DAMAGED = Array.from({ length: 15 }, (_, i) => `SKU-T${i}`);
/** Rows written all along. */
const BUSY = Array.from({ length: 8 }, (_, i) => `SKU-L${i}`);
const forged = (region: string): string => `SKU-FORGED-${region}`;
const ALL = [...DAMAGED, ...BUSY, ...REGIONS.map(forged)];
const regions = (): { id: string; url: string }[] => REGIONS.map((id) => ({ id, url: t.url(id) }));
const at = (id: string): { url: string } => ({ url: t.url(id) });

interface Checks {
  readonly lastCheckAt: string | null;
  readonly digestsCompared: number;
  readonly bucketsCompared: number;
  readonly bucketsDiffered: number;
  readonly rowsRepaired: number;
  readonly lastRepairAt: string | null;
  readonly gapsRepaired: number;
}

async function checksAt(region: string): Promise<Map<string, Checks>> {
  const answer = await call<{ regions: { region: string; replicaChecks: Checks | null }[] }>(at(region), 'GET', '/v1/cluster');
  return new Map(answer.body.regions.filter((r) => r.replicaChecks !== null).map((r) => [r.region, r.replicaChecks as Checks]));
}

async function converged(skus: readonly string[], what: string, timeoutMs: number): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => {
      last = await divergence(regions(), skus);
      return last.length === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, what, describe: () => Promise.resolve(last.slice(0, 12).join('\n')) },
  );
}

/** Runs a statement on the database of `region` hosting the SKU's shard. */
async function sqlFor(region: string, sku: string, text: string, params: unknown[] = []): Promise<number> {
  const shard = shardOf(sku, SHARDS);
  const db = t.cluster.config.regions
    .find((r) => r.id === region)
    ?.databases.find((d) => d.shards !== undefined && d.shards.from <= shard && shard <= d.shards.to);
  if (!db) throw new Error(`no database of ${region} hosts shard ${shard}`);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** Adjustments of the busy rows from every region until `stop` is set; resolves how many were accepted. */
async function writeUntil(stop: { done: boolean }, seed: number): Promise<number> {
  let accepted = 0;
  let x = seed;
  const next = (n: number): number => Math.floor((x = (x * 1103515245 + 12345) % 2147483648) / 65536) % n;
  while (!stop.done) {
    const region = REGIONS[next(3)];
    const answer = await call(
      at(region),
      'POST',
      `/v1/warehouses/${WAREHOUSES[region][next(2)]}/stock/${BUSY[next(BUSY.length)]}/adjustments`,
      {
        body: { delta: 1 + next(9), reason: 'received' },
      },
    );
    if (answer.status === 201) accepted++;
  }
  return accepted;
}

beforeAll(async () => {
  t = await startTestCluster('antient', { STOCKMESH_HEARTBEAT_MS: '500', STOCKMESH_ANTI_ENTROPY_MS: String(INTERVAL_MS) });
  for (const region of REGIONS) {
    for (const id of WAREHOUSES[region]) {
      expect((await call(at(region), 'PUT', `/v1/warehouses/${id}`, { body: { region, name: id } })).status).toBe(201);
    }
  }
  for (const region of REGIONS) {
    await waitFor(
      async () => ((await call<{ items: unknown[] }>(at(region), 'GET', '/v1/warehouses')).body.items.length === 6 ? true : undefined),
      { what: `${region} to know every warehouse` },
    );
  }
  for (const region of REGIONS) {
    for (const warehouse of WAREHOUSES[region]) {
      for (const [i, sku] of [...DAMAGED, ...BUSY].entries()) {
        expect((await call(at(region), 'PUT', `/v1/warehouses/${warehouse}/stock/${sku}`, { body: { onHand: 10 + i } })).status).toBe(200);
      }
    }
  }
  await converged(ALL, 'every region to converge before the test', 60_000);
}, 180_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('anti-entropy', () => {
  const stop = { done: false };
  let writers: Promise<number[]> | undefined;

  afterAll(async () => {
    stop.done = true;
    await writers;
  });

  it('compares digests under load without repairing anything that is not damaged', async () => {
    writers = Promise.all([writeUntil(stop, 3), writeUntil(stop, 5)]);
    const before = new Map(await Promise.all(REGIONS.map(async (r) => [r, await checksAt(r)] as const)));
    // Three more digests of every shard of every other region, compared in every region.
    await waitFor(
      async () => {
        for (const region of REGIONS) {
          for (const [source, checks] of await checksAt(region)) {
            if (checks.digestsCompared < (before.get(region)?.get(source)?.digestsCompared ?? 0) + 3 * SHARDS) return undefined;
          }
        }
        return true;
      },
      { timeoutMs: 60_000, what: 'three rounds of digests compared everywhere' },
    );
    for (const region of REGIONS) {
      for (const [source, checks] of await checksAt(region)) {
        expect({ region, source, rowsRepaired: checks.rowsRepaired }).toEqual({ region, source, rowsRepaired: 0 });
        // Buckets with changes in flight are left out, never compared and repaired.
        expect(checks.bucketsCompared).toBeGreaterThan(0);
        expect(checks.bucketsCompared).toBeLessThanOrEqual(checks.digestsCompared * 64);
        expect(checks.lastCheckAt).not.toBeNull();
      }
    }
  }, 90_000);

  it('finds and repairs a changed on-hand, a deleted row, a forged row, a raised version, a changed safety stock and forged incoming receipts in every region', async () => {
    // Each region damages six replica rows of the other two regions' warehouses.
    const damage: { region: string; sku: string; what: string }[] = [];
    for (const [k, region] of REGIONS.entries()) {
      const others = REGIONS.filter((r) => r !== region);
      const [a, b, c, d, e] = [DAMAGED[5 * k], DAMAGED[5 * k + 1], DAMAGED[5 * k + 2], DAMAGED[5 * k + 3], DAMAGED[5 * k + 4]];
      const [w0, w1] = [WAREHOUSES[others[0]][0], WAREHOUSES[others[1]][1]];
      expect(await sqlFor(region, a, `UPDATE stock_replica SET on_hand = on_hand + 7 WHERE warehouse_id = $1 AND sku = $2`, [w0, a])).toBe(
        1,
      );
      expect(await sqlFor(region, b, `DELETE FROM stock_replica WHERE warehouse_id = $1 AND sku = $2`, [w1, b])).toBe(1);
      expect(
        await sqlFor(
          region,
          forged(region),
          `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, event_id)
           VALUES ($1, $2, $3, $4, 500, 0, 3, now(), 'forged')`,
          [w0, forged(region), shardOf(forged(region), SHARDS), others[0]],
        ),
      ).toBe(1);
      expect(
        await sqlFor(region, c, `UPDATE stock_replica SET version = version + 100 WHERE warehouse_id = $1 AND sku = $2`, [w1, c]),
      ).toBe(1);
      // Same version, same on-hand and reserved: only the safety stock (in the row hash) tells.
      expect(await sqlFor(region, d, `UPDATE stock_replica SET safety_stock = 9 WHERE warehouse_id = $1 AND sku = $2`, [w0, d])).toBe(1);
      // Likewise incoming receipts the owner never announced (in the row hash through incoming_digest).
      const receipts = JSON.stringify([{ receiptId: 'po-forged', quantity: 500, expectedAt: '2026-12-24' }]);
      expect(
        await sqlFor(region, e, `UPDATE stock_replica SET incoming = $3::jsonb WHERE warehouse_id = $1 AND sku = $2`, [w1, e, receipts]),
      ).toBe(1);
      damage.push(
        { region, sku: a, what: 'on-hand' },
        { region, sku: b, what: 'deleted' },
        { region, sku: forged(region), what: 'forged' },
        { region, sku: c, what: 'version' },
        { region, sku: d, what: 'safety stock' },
        { region, sku: e, what: 'incoming' },
      );
    }
    // Not checked here that every region still differs: with a digest every second, repairs may
    // already have begun. Each damage is shown done above and its repair logged below.
    const started = Date.now();
    // The bound: a bucket differs at the next digest after the damage, and the repair reads the
    // state topic; allow generously for a busy two-core machine.
    await converged(
      ALL.filter((s) => !BUSY.includes(s)),
      'every region to repair the damaged rows',
      30_000,
    );
    const tookMs = Date.now() - started;
    console.log(`anti-entropy repaired 18 damaged rows in 3 regions in ${tookMs} ms (digest every ${INTERVAL_MS} ms)`);

    for (const region of REGIONS) {
      const checks = [...(await checksAt(region)).values()];
      expect(checks.reduce((sum, c) => sum + c.rowsRepaired, 0)).toBe(6);
      expect(checks.every((c) => c.lastRepairAt !== null && c.gapsRepaired === 0)).toBe(true);
      expect(checks.reduce((sum, c) => sum + c.bucketsDiffered, 0)).toBeGreaterThanOrEqual(6);
    }
    // Each repair is logged with what differed.
    const repairs = readFileSync(t.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"replica row repaired"'))
      .map((line) => JSON.parse(line) as { region: string; source: string; action: string; sku: string });
    for (const { region, sku, what } of damage) {
      const logged = repairs.find((r) => r.sku === sku && r.region === region);
      expect({ region, what, logged: logged?.action }).toEqual({
        region,
        what,
        logged: what === 'deleted' ? 'inserted' : what === 'forged' ? 'deleted' : 'replaced',
      });
    }

    stop.done = true;
    const accepted = (await writers) ?? [];
    expect(accepted.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await converged(ALL, 'every region to converge once the writes stop', 60_000);
  }, 120_000);

  it('dead-letters a malformed digest and one that speaks for another region', async () => {
    const kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    const headers = (source: string, id: string): Record<string, string> => ({
      ce_specversion: '1.0',
      ce_id: id,
      ce_source: source,
      ce_type: 'io.stockmesh.stock.digest.v1',
      ce_time: new Date().toISOString(),
      'content-type': 'application/json',
    });
    const digest = (region: string, bucket: number): string =>
      JSON.stringify({
        region,
        shard: 0,
        bucketCount: 64,
        fromOffset: '0',
        toOffset: '0',
        rows: 1,
        buckets: [{ bucket, rows: 1, hash: '0123456789abcdef' }],
        unsettled: [],
        computedAt: new Date().toISOString(),
      });
    await producer.connect();
    try {
      await producer.send({
        topic: `${t.topicPrefix}stockmesh.stock-digests.v1`,
        messages: [
          { partition: 0, key: 'bad-bucket', value: digest('us-east', 99), headers: headers('us-east', 'bad-bucket') },
          { partition: 0, key: 'not-its-own', value: digest('eu-west', 1), headers: headers('ap-south', 'not-its-own') },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `${t.topicPrefix}dlt-digests`, maxWaitTimeInMs: 100 });
    const seen: { id: string; consumer: string; reason: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${t.topicPrefix}stockmesh.dead-letter.v1`, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const h = (name: string): string => message.headers?.[name]?.toString() ?? '';
        if (h('dlt_topic') === 'stockmesh.stock-digests.v1')
          seen.push({ id: h('ce_id'), consumer: h('dlt_consumer'), reason: h('dlt_reason') });
        return Promise.resolve();
      },
    });
    try {
      // Every region refuses the malformed one; the two regions other than its sender refuse the other.
      await waitFor(async () => (seen.length >= 5 ? true : undefined), {
        what: 'five dead letters',
        describe: async () => JSON.stringify(seen),
      });
    } finally {
      await consumer.disconnect();
    }
    expect(new Set(seen.filter((s) => s.id === 'bad-bucket').map((s) => s.consumer))).toEqual(
      new Set(REGIONS.map((r) => `stockmesh.digests.${r}`)),
    );
    expect(seen.find((s) => s.id === 'bad-bucket')?.reason).toMatch(/bucket/);
    expect(new Set(seen.filter((s) => s.id === 'not-its-own').map((s) => s.consumer))).toEqual(
      new Set(['stockmesh.digests.us-east', 'stockmesh.digests.eu-west']),
    );
  }, 60_000);
});
