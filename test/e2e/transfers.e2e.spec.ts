import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, globalView, startTestCluster, viewDiff, waitFor, type Answer, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// Transfers between three regions running as real processes, replicating through the real broker.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const OWNER: Record<string, string> = { 'nyc-1': 'us-east', 'nyc-2': 'us-east', 'fra-1': 'eu-west', 'bom-1': 'ap-south' };
const WAREHOUSES = Object.keys(OWNER);
const at = (id: string): { url: string } => ({ url: t.url(id) });
/** Units this suite put into the cluster: with those in transit, what every row of every region must add up to. */
let unitsPutIn = 0;

interface Transfer {
  id: string;
  fromWarehouseId: string;
  toWarehouseId: string;
  fromRegion: string;
  toRegion: string;
  quantity: number;
  status: 'pending' | 'completed' | 'returned' | 'cancelled' | 'failed';
}

async function query<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Runs `text` on every database of every region (whether its process runs or not) and concatenates the rows. */
async function everywhere<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const urls = t.cluster.config.regions.flatMap((r) => r.databases.map((d) => d.url));
  return (await Promise.all(urls.map((url) => query<T>(url, text, params)))).flat();
}

/**
 * The conservation law, over every stock row of every region: on-hand everywhere plus the units
 * in transit (transfers pending at their source whose destination has not received them) plus
 * those written off (transfers that ended `failed`).
 */
async function globalUnits(): Promise<{ onHand: number; inTransit: number; writtenOff: number }> {
  const onHand = (await everywhere<{ n: string | null }>('SELECT sum(on_hand) AS n FROM stock')).reduce((a, r) => a + Number(r.n ?? 0), 0);
  const received = new Set(
    (await everywhere<{ transfer_id: string }>(`SELECT transfer_id FROM transfer_receipts WHERE outcome = 'received'`)).map(
      (r) => r.transfer_id,
    ),
  );
  const pending = await everywhere<{ id: string; quantity: string }>(`SELECT id, quantity FROM transfers WHERE status = 'pending'`);
  const inTransit = pending.filter((p) => !received.has(p.id)).reduce((a, p) => a + Number(p.quantity), 0);
  const failed = await everywhere<{ n: string | null }>(`SELECT sum(quantity) AS n FROM transfers WHERE status = 'failed'`);
  return { onHand, inTransit, writtenOff: failed.reduce((a, r) => a + Number(r.n ?? 0), 0) };
}

async function expectConservation(): Promise<void> {
  const units = await globalUnits();
  expect(units.onHand + units.inTransit + units.writtenOff).toBe(unitsPutIn);
}

async function setStock(warehouse: string, sku: string, onHand: number): Promise<void> {
  const answer = await call(at(OWNER[warehouse]), 'PUT', `/v1/warehouses/${warehouse}/stock/${sku}`, { body: { onHand } });
  expect(answer.status).toBe(200);
  unitsPutIn += onHand;
}

async function onHand(warehouse: string, sku: string): Promise<number> {
  const answer = await call<{ onHand: number }>(at(OWNER[warehouse]), 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`);
  return answer.status === 200 ? answer.body.onHand : 0;
}

/** The destination's ledger entries that added this transfer's units. */
async function transferIns(transferId: string): Promise<number> {
  const rows = await everywhere(`SELECT 1 FROM stock_movements WHERE kind = 'transfer-in' AND actor = $1`, [`transfer:${transferId}`]);
  return rows.length;
}

async function status(id: string, via: string): Promise<string> {
  return (await call<Transfer>(at(via), 'GET', `/v1/transfers/${id}`)).body.status;
}

async function waitForStatus(id: string, wanted: string, via = 'ap-south'): Promise<void> {
  await waitFor(async () => ((await status(id, via)) === wanted ? true : undefined), {
    timeoutMs: 60_000,
    what: `transfer ${id} to be ${wanted}`,
    describe: async () => status(id, via),
  });
}

/** Waits until every region's global view of the SKUs equals what the owners hold. */
async function expectConverged(skus: readonly string[]): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => {
      const truth = new Map<string, string>();
      for (const region of REGIONS) {
        for (const [k, v] of await globalView(at(region), skus)) if (v.startsWith(`${region}:`)) truth.set(k, v);
      }
      last = [];
      for (const region of REGIONS) last.push(...viewDiff(truth, await globalView(at(region), skus)).map((d) => `${region} ${d}`));
      return last.length === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'every region to converge', describe: async () => last.slice(0, 10).join('\n') },
  );
}

/**
 * A repeatable pseudo-random `next(n)` in 0..n-1 (mulberry32). Not a plain LCG modulo 2^31: its
 * low bits cycle so fast that `% 4` picks from only one or two values.
 */
function seeded(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return Math.floor((((z ^ (z >>> 14)) >>> 0) / 4294967296) * n);
  };
}

beforeAll(async () => {
  t = await startTestCluster('xfer', { STOCKMESH_HEARTBEAT_MS: '500' });
  for (const [id, region] of Object.entries(OWNER)) {
    expect((await call(at(region), 'PUT', `/v1/warehouses/${id}`, { body: { region, name: id } })).status).toBe(201);
  }
  for (const region of REGIONS) {
    await waitFor(
      async () =>
        (await call<{ items: unknown[] }>(at(region), 'GET', '/v1/warehouses')).body.items.length === WAREHOUSES.length ? true : undefined,
      { what: `${region} to know every warehouse` },
    );
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('transfers across regions', () => {
  it('completes a cross-region transfer exactly once, whichever region is asked', async () => {
    await setStock('nyc-1', 'SKU-T1', 100);
    const body = { sku: 'SKU-T1', fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 30 };
    const headers = { 'idempotency-key': randomUUID() };
    const made = await call<Transfer>(at('ap-south'), 'POST', '/v1/transfers', { body, headers });
    expect(made.status).toBe(201);
    expect(made.headers['stockmesh-served-by']).toBe('us-east');
    expect(made.body).toMatchObject({ fromRegion: 'us-east', toRegion: 'eu-west', status: 'pending' });
    const replay = await call<Transfer>(at('eu-west'), 'POST', '/v1/transfers', { body, headers });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(made.body.id);

    await waitForStatus(made.body.id, 'completed', 'eu-west');
    expect(await onHand('nyc-1', 'SKU-T1')).toBe(70);
    expect(await onHand('fra-1', 'SKU-T1')).toBe(30);
    expect(await transferIns(made.body.id)).toBe(1);
    const ledger = await call<{ items: { kind: string; delta: number }[] }>(
      at('us-east'),
      'GET',
      '/v1/warehouses/fra-1/stock/SKU-T1/movements',
    );
    expect(ledger.body.items.map((m) => [m.kind, m.delta])).toEqual([['transfer-in', 30]]);
    await expectConverged(['SKU-T1']);
    await expectConservation();
  }, 120_000);

  it('keeps a transfer pending while the destination region is down, and completes it once when it is back', async () => {
    await setStock('nyc-2', 'SKU-T2', 50);
    await expectConverged(['SKU-T2']);
    await t.cluster.stopRegion('eu-west');
    let id: string;
    try {
      const made = await call<Transfer>(at('us-east'), 'POST', '/v1/transfers', {
        body: { sku: 'SKU-T2', fromWarehouseId: 'nyc-2', toWarehouseId: 'fra-1', quantity: 20 },
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(made.status).toBe(201);
      id = made.body.id;
      expect(await onHand('nyc-2', 'SKU-T2')).toBe(30);
      // The dispatched event has left the outbox: it waits in Kafka for the destination.
      await waitFor(
        async () =>
          (await call<{ outboxPending: number }>(at('us-east'), 'GET', '/v1/cluster')).body.outboxPending === 0 ? true : undefined,
        { what: 'us-east to publish its outbox' },
      );
      expect(await status(id, 'ap-south')).toBe('pending');
      expect(await globalUnits()).toMatchObject({ inTransit: 20 });
      await expectConservation();
    } finally {
      await t.cluster.startRegion('eu-west');
    }
    await waitForStatus(id, 'completed');
    expect(await onHand('fra-1', 'SKU-T2')).toBe(20);
    expect(await transferIns(id)).toBe(1);
    expect(await globalUnits()).toMatchObject({ inTransit: 0 });
    await expectConservation();
    await expectConverged(['SKU-T2']);
    expect(await onHand('fra-1', 'SKU-T2')).toBe(20);
  }, 180_000);

  it('cancels transfers from any region while their receipts race them: each ends once, cancelled or completed', async () => {
    const sku = 'SKU-T4';
    await setStock('nyc-1', sku, 100);
    await expectConverged([sku]);
    const made: Transfer[] = [];
    for (let i = 0; i < 10; i++) {
      const answer = await call<Transfer>(at('us-east'), 'POST', '/v1/transfers', {
        body: { sku, fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 1 + (i % 3) },
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(answer.status).toBe(201);
      made.push(answer.body);
    }
    // Cancelled through ap-south (forwarded to us-east, which asks eu-west) while eu-west receives them.
    const cancel = async (id: string): Promise<Answer<Transfer & { code?: string; transferStatus?: string }>> => {
      const key = randomUUID();
      let answer: Answer<Transfer & { code?: string; transferStatus?: string }> | undefined;
      await waitFor(
        async () => {
          answer = await call(at('ap-south'), 'POST', `/v1/transfers/${id}/cancel`, { headers: { 'idempotency-key': key } });
          return answer.status === 503 ? undefined : true; // the destination was busy or slow: ask again
        },
        { what: `transfer ${id} to be cancelled or refused`, describe: async () => JSON.stringify(answer?.body) },
      );
      return answer!;
    };
    const answers = await Promise.all(made.map((m) => cancel(m.id)));
    let completed = 0;
    for (const [i, m] of made.entries()) {
      const answer = answers[i];
      if (answer.status === 409) expect(answer.body).toMatchObject({ code: 'transfer-conflict', transferStatus: 'completed' });
      else expect(answer).toMatchObject({ status: 200, body: { status: 'cancelled' } });
      const won = answer.status === 200 ? 'cancelled' : 'completed';
      if (won === 'completed') completed += m.quantity;
      await waitForStatus(m.id, won, 'eu-west');
      expect(await transferIns(m.id)).toBe(won === 'completed' ? 1 : 0);
    }
    // Every cancelled transfer's units came back once, with a ledger entry saying why.
    const returns = await everywhere<{ n: string }>(
      `SELECT count(*) AS n FROM stock_movements WHERE sku = $1 AND kind = 'transfer-return' AND reason = 'transfer-cancelled'`,
      [sku],
    );
    expect(returns.reduce((a, r) => a + Number(r.n), 0)).toBe(answers.filter((a) => a.status === 200).length);
    expect(await onHand('nyc-1', sku)).toBe(100 - completed);
    expect(await onHand('fra-1', sku)).toBe(completed);
    await expectConservation();
    await expectConverged([sku]);
  }, 120_000);

  it('conserves every unit through transfers in all directions while a region crashes and restarts', async () => {
    const sku = 'SKU-T3';
    for (const w of WAREHOUSES) await setStock(w, sku, 1_000);
    const next = seeded(17);
    const requests = Array.from({ length: 60 }, () => {
      const from = WAREHOUSES[next(WAREHOUSES.length)];
      const others = WAREHOUSES.filter((w) => w !== from);
      return {
        key: randomUUID(),
        via: REGIONS[next(REGIONS.length)] as string,
        body: { sku, fromWarehouseId: from, toWarehouseId: others[next(others.length)], quantity: 1 + next(5) },
      };
    });
    const made = new Map<string, Transfer>();
    const down = new Set<string>();
    const send = async (r: (typeof requests)[number]): Promise<void> => {
      const via = down.has(r.via) ? REGIONS.find((g) => !down.has(g))! : r.via;
      let answer: Answer<Transfer> | undefined;
      try {
        answer = await call<Transfer>(at(via), 'POST', '/v1/transfers', { body: r.body, headers: { 'idempotency-key': r.key } });
      } catch {
        return; // the region went down under the request: retried below with the same key
      }
      if (answer.status === 201) made.set(r.key, answer.body);
      else expect(answer.status).toBe(503); // the source's region is down: retried below
    };
    for (let i = 0; i < 20; i++) await send(requests[i]);
    const crash = t.cluster.killRegion('ap-south').then(() => down.add('ap-south'));
    await Promise.all(requests.slice(20, 30).map(send));
    await crash;
    for (let i = 30; i < 45; i++) await send(requests[i]);
    await t.cluster.startRegion('ap-south');
    down.clear();
    for (let i = 45; i < 60; i++) await send(requests[i]);
    for (const r of requests) if (!made.has(r.key)) await send(r);
    expect(made.size).toBe(requests.length);

    for (const transfer of made.values()) await waitForStatus(transfer.id, 'completed', transfer.fromRegion);
    const cross = [...made.values()].filter((m) => m.fromRegion !== m.toRegion);
    expect(cross.length).toBeGreaterThan(20);
    for (const transfer of cross) expect(await transferIns(transfer.id)).toBe(1);
    expect(await everywhere(`SELECT 1 FROM transfers WHERE sku = $1`, [sku])).toHaveLength(requests.length);

    // Each warehouse ends with exactly what the transfers say, and every unit is accounted for.
    const expected = new Map(WAREHOUSES.map((w) => [w, 1_000]));
    for (const m of made.values()) {
      expected.set(m.fromWarehouseId, expected.get(m.fromWarehouseId)! - m.quantity);
      expected.set(m.toWarehouseId, expected.get(m.toWarehouseId)! + m.quantity);
    }
    for (const w of WAREHOUSES) expect(await onHand(w, sku)).toBe(expected.get(w));
    expect(await globalUnits()).toMatchObject({ inTransit: 0 });
    await expectConservation();
    await expectConverged(['SKU-T1', 'SKU-T2', sku]);
  }, 300_000);
});
