import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReservationFaultPoints, ReservationsService, ReservationSweeper } from '@stockmesh/reservations';
import { shardOf } from '@stockmesh/sharding';
import { call, ManualClock, signedCall, StandInRegion, startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Reservations when things go wrong, in one region on the real PostgreSQL, on a clock the test
// moves. A pool of two connections per database (one database) makes a transaction held across
// a step show up as a deadlock. The region's peer `eu-west` is a stand-in owner this test runs:
// it holds what it is asked to, then stops answering.

/** Counts the internal hold calls it gets; answers them while `up`, else 503. */
class StandInOwner {
  up = true;
  readonly calls = { place: 0, commit: 0, release: 0 };
  private readonly region = new StandInRegion((method, path) => {
    this.calls[method === 'PUT' ? 'place' : path.endsWith('/commit') ? 'commit' : 'release']++;
    return this.up ? { status: 200, body: {} } : { status: 503, body: { code: 'not-ready' } };
  });

  listen(): Promise<Record<string, string>> {
    return this.region.listen();
  }

  close(): Promise<void> {
    return this.region.close();
  }
}

interface Reservation {
  id: string;
  status: string;
  allocations: { sku: string; warehouseId: string; region: string; quantity: number; state: string }[];
}

const owner = new StandInOwner();
const clock = new ManualClock();
let region: TestRegion;
let faults: ReservationFaultPoints;
let sweeper: ReservationSweeper;

const reserve = (body: unknown, key = randomUUID()) =>
  call<Reservation & Record<string, unknown>>(region, 'POST', '/v1/reservations', { body, headers: { 'idempotency-key': key } });
const row = async (warehouse: string, sku: string): Promise<{ onHand: number; reserved: number }> =>
  (await call<{ onHand: number; reserved: number }>(region, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`)).body;
const setStock = async (warehouse: string, sku: string, onHand: number): Promise<void> => {
  expect((await call(region, 'PUT', `/v1/warehouses/${warehouse}/stock/${sku}`, { body: { onHand } })).status).toBe(200);
};
const sql = <T extends object>(text: string, params: unknown[] = []): Promise<T[]> => {
  const databases = region.app.get(ShardDatabases);
  return databases.inDatabase(databases.home(), (tx) => tx.query<T>(text, params));
};

beforeAll(async () => {
  region = await startTestRegion(
    'resvfault',
    {
      // eu-west's internal listener is the stand-in owner.
      ...(await owner.listen()),
      STOCKMESH_DATABASES_PER_REGION: '1',
      STOCKMESH_DB_POOL_SIZE: '2',
    },
    { clock },
  );
  faults = region.app.get(ReservationFaultPoints);
  sweeper = region.app.get(ReservationSweeper);
  for (const w of ['nyc-1', 'nyc-2']) await call(region, 'PUT', `/v1/warehouses/${w}`, { body: { region: 'us-east', name: w } });
}, 60_000);

afterAll(async () => {
  await region?.close();
  await owner.close();
});

describe('a commit is what the owners did', () => {
  it('answers reservation-hold-lost, not committed, when an owner no longer has a hold; the other holds are committed', async () => {
    await setStock('nyc-1', 'SKU-LOST-A', 2);
    await setStock('nyc-2', 'SKU-LOST-B', 1);
    const made = await reserve({
      lines: [
        { sku: 'SKU-LOST-A', quantity: 2 },
        { sku: 'SKU-LOST-B', quantity: 1 },
      ],
    });
    expect(made.status).toBe(201);
    const id = made.body.id;
    // The owner lets the first hold go (as an owner expiring it would).
    const target = { reservationId: id, warehouseId: 'nyc-1', sku: 'SKU-LOST-A' };
    expect((await signedCall(region, 'POST', `/internal/v1/holds/${id}.1/release`, { body: target, at: clock.now() })).status).toBe(200);
    const lostBefore = region.app.get(ReservationsService).counters().holdsLost;

    const commit = await call(region, 'POST', `/v1/reservations/${id}/commit`);
    expect(commit.status).toBe(409);
    expect(commit.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(commit.body).toMatchObject({
      code: 'reservation-hold-lost',
      reservationStatus: 'commit-failed',
      lost: [{ sku: 'SKU-LOST-A', warehouseId: 'nyc-1', quantity: 2, state: 'lost' }],
      allocations: [
        { sku: 'SKU-LOST-A', state: 'lost' },
        { sku: 'SKU-LOST-B', state: 'committed' },
      ],
    });
    expect((await call<Reservation>(region, 'GET', `/v1/reservations/${id}`)).body.status).toBe('commit-failed');
    expect(await row('nyc-1', 'SKU-LOST-A')).toMatchObject({ onHand: 2, reserved: 0 });
    expect(await row('nyc-2', 'SKU-LOST-B')).toMatchObject({ onHand: 0, reserved: 0 });
    expect(region.app.get(ReservationsService).counters().holdsLost).toBe(lostBefore + 1);
    // The answer stays the same, and nothing is left for the sweeper to retry.
    expect((await call(region, 'POST', `/v1/reservations/${id}/commit`)).body).toMatchObject({ code: 'reservation-hold-lost' });
    const release = await call(region, 'POST', `/v1/reservations/${id}/release`);
    expect(release.body).toMatchObject({ code: 'reservation-conflict', reservationStatus: 'commit-failed' });
    expect(await sql(`SELECT 1 FROM reservation_allocations WHERE reservation_id = $1 AND state IN ('intent', 'held')`, [id])).toEqual([]);
  });

  it('answers reservation-hold-lost when the owner never heard of the hold', async () => {
    await setStock('nyc-1', 'SKU-GONE', 1);
    const id = (await reserve({ lines: [{ sku: 'SKU-GONE', quantity: 1 }] })).body.id;
    await sql(`DELETE FROM holds WHERE id = $1`, [`${id}.1`]);
    const commit = await call(region, 'POST', `/v1/reservations/${id}/commit`);
    expect(commit.status).toBe(409);
    expect(commit.body).toMatchObject({ code: 'reservation-hold-lost', lost: [{ sku: 'SKU-GONE' }] });
    expect(await row('nyc-1', 'SKU-GONE')).toMatchObject({ onHand: 1 });
  });

  it('commits many reservations at once with a pool of two connections (no transaction is held across a hold step)', async () => {
    await setStock('nyc-1', 'SKU-POOL', 10);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await reserve({ lines: [{ sku: 'SKU-POOL', quantity: 1 }] })).body.id);
    const answers = await Promise.all(ids.map((id) => call(region, 'POST', `/v1/reservations/${id}/commit`)));
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(new Array(6).fill([200, 'committed']));
    expect(await row('nyc-1', 'SKU-POOL')).toMatchObject({ onHand: 4, reserved: 0 });
  }, 60_000);
});

describe('a saga and its lease', () => {
  const leaseOf = async (id: string): Promise<number> =>
    (await sql<{ lease_until: Date }>(`SELECT lease_until FROM reservations WHERE id = $1`, [id]))[0].lease_until.getTime();

  it('keeps a live saga alive however long a step takes: recovery does not take it over', async () => {
    await setStock('nyc-1', 'SKU-SLOW', 1);
    let abandoned = -1;
    faults.install(async (point, step) => {
      if (point !== 'before-hold' || step.reference !== 'slow-cart') return;
      // The step takes 20 s, longer than the 15 s lease; the saga renews its lease meanwhile.
      for (let i = 0; i < 2; i++) {
        const before = await leaseOf(step.reservationId);
        clock.advance(10_000);
        await waitFor(async () => ((await leaseOf(step.reservationId)) > before ? true : undefined), {
          timeoutMs: 10_000,
          what: 'the saga to renew its lease',
        });
      }
      abandoned = (await sweeper.sweep()).abandoned;
    });
    try {
      const made = await reserve({ reference: 'slow-cart', lines: [{ sku: 'SKU-SLOW', quantity: 1 }] });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ status: 'held' });
      expect(abandoned).toBe(0);
    } finally {
      faults.remove();
    }
  }, 60_000);

  it('places no more holds once recovery took the saga over', async () => {
    await setStock('nyc-1', 'SKU-FENCE-A', 1);
    await setStock('nyc-2', 'SKU-FENCE-B', 1);
    faults.install(async (point, step) => {
      if (point !== 'after-hold' || step.reference !== 'taken-over' || step.allocationNo !== 1) return;
      // Recovery decides the saga is dead (its lease ran out while it stalled) and fails it.
      await waitFor(async () => {
        await sql(`UPDATE reservations SET lease_until = $2 WHERE id = $1`, [step.reservationId, new Date(clock.now() - 1_000)]);
        return (await sweeper.sweep()).abandoned > 0 ? true : undefined;
      });
    });
    try {
      const made = await reserve({
        reference: 'taken-over',
        lines: [
          { sku: 'SKU-FENCE-A', quantity: 1, warehouseId: 'nyc-1' },
          { sku: 'SKU-FENCE-B', quantity: 1, warehouseId: 'nyc-2' },
        ],
      });
      expect(made.status).toBe(409);
      expect(made.body).toMatchObject({ code: 'reservation-conflict' });
      const [id] = (await sql<{ id: string }>(`SELECT id FROM reservations WHERE reference = 'taken-over'`)).map((r) => r.id);
      // The second hold was never asked for; the first is released.
      expect(await sql(`SELECT id FROM holds WHERE reservation_id = $1`, [id])).toEqual([{ id: `${id}.1` }]);
      await waitFor(async () => ((await row('nyc-1', 'SKU-FENCE-A')).reserved === 0 ? true : undefined), {
        what: 'the hold to be released',
      });
    } finally {
      faults.remove();
    }
  }, 60_000);

  it('releases what a coordinator that stopped mid-saga held, once its lease has run out', async () => {
    await setStock('nyc-1', 'SKU-CRASH-1', 2);
    await setStock('nyc-2', 'SKU-CRASH-2', 2);
    faults.install(async (point, step) => {
      // Stops the saga like a crashed process: nothing after this point runs, nothing is compensated.
      if (point === 'after-hold' && step.reference === 'crash-me' && step.allocationNo === 1)
        throw new Error('fault injection: the coordinator stops after its first hold');
    });
    const key = randomUUID();
    const body = {
      reference: 'crash-me',
      allowSplit: false,
      lines: [
        { sku: 'SKU-CRASH-1', quantity: 1, warehouseId: 'nyc-1' },
        { sku: 'SKU-CRASH-2', quantity: 1, warehouseId: 'nyc-2' },
      ],
    };
    try {
      expect((await reserve(body, key)).status).toBe(500);
    } finally {
      faults.remove();
    }
    expect(await row('nyc-1', 'SKU-CRASH-1')).toMatchObject({ reserved: 1 });
    clock.advance(20_000); // past the lease, which nobody renews any more
    await waitFor(async () => ((await row('nyc-1', 'SKU-CRASH-1')).reserved === 0 ? true : undefined), { what: 'the hold to be released' });
    expect(await row('nyc-2', 'SKU-CRASH-2')).toMatchObject({ reserved: 0 });
    const retried = await reserve(body, key);
    expect(retried.status).toBe(409);
    expect(retried.body).toMatchObject({ code: 'reservation-conflict' });
  }, 60_000);
});

describe('the sweeper when owners are down', () => {
  it('keeps expiring other reservations, and asks each unreachable owner once per backoff, when 120 holds cannot be released', async () => {
    // eu-west's stock, as this region's replica shows it.
    await sql(
      `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, event_id)
       VALUES ('fra-1', 'SKU-FAR', $1, 'eu-west', 1000, 0, 1, now(), 'test')`,
      [shardOf('SKU-FAR', region.config.cluster.shardCount)],
    );
    const ids: string[] = [];
    for (let i = 0; i < 120; i += 6) {
      const made = await Promise.all(Array.from({ length: 6 }, () => reserve({ lines: [{ sku: 'SKU-FAR', quantity: 1 }] })));
      for (const m of made) {
        expect(m.body).toMatchObject({ status: 'held', allocations: [{ warehouseId: 'fra-1', region: 'eu-west' }] });
        ids.push(m.body.id);
      }
    }
    owner.up = false;
    for (let i = 0; i < ids.length; i += 6) {
      const released = await Promise.all(ids.slice(i, i + 6).map((id) => call(region, 'POST', `/v1/reservations/${id}/release`)));
      for (const r of released) expect(r.body).toMatchObject({ status: 'released' });
    }
    const releaseCalls = owner.calls.release;

    // Another reservation, in this region's own warehouse, expires on time all the same.
    await setStock('nyc-1', 'SKU-EXP', 2);
    const short = await reserve({ lines: [{ sku: 'SKU-EXP', quantity: 2 }], ttlSeconds: 1 });
    expect(await row('nyc-1', 'SKU-EXP')).toMatchObject({ reserved: 2 });
    clock.advance(2_000);
    await waitFor(async () => ((await row('nyc-1', 'SKU-EXP')).reserved === 0 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the other reservation to expire',
    });
    expect((await call<Reservation>(region, 'GET', `/v1/reservations/${short.body.id}`)).body.status).toBe('expired');

    // While the clock stands still, each unreachable hold is asked at most once more (its backoff),
    // however many sweeps run, and one sweep asks a bounded number of owners.
    const sweep = await sweeper.sweep();
    expect(sweep.attempted).toBeLessThanOrEqual(100);
    expect(owner.calls.release - releaseCalls).toBeLessThanOrEqual(ids.length);
    const open = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM reservation_allocations WHERE region = 'eu-west' AND state = 'held' AND next_attempt_at > $1`,
      [new Date(clock.now())],
    );
    expect(open[0].n).toBe(ids.length);

    // The owner answers again: once their backoff has passed, every hold is released.
    owner.up = true;
    clock.advance(600_000);
    await waitFor(
      async () => {
        const [{ n }] = await sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM reservation_allocations WHERE region = 'eu-west' AND state = 'released'`,
        );
        return n === ids.length ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'every hold at the owner to be released' },
    );
  }, 120_000);
});
