import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RetentionSweeper } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { call, ManualClock, startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// Finished rows leave after their retention, open ones never, on the real PostgreSQL and a clock
// the test moves. Rows are stamped by the database when they finish; the sweeper's cutoff is the
// region's clock minus the retention, so moving the clock ages every row at once.
const HOUR = 3_600_000;
const clock = new ManualClock();
let region: TestRegion;
let sweeper: RetentionSweeper;

const SKU = 'SKU-RET';
const adjustKey = randomUUID();
let held: string;
let done: string;

async function sql<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}
const home = (): string => region.config.shardMap.databaseFor(0).url;
const skuDb = (sku: string): string => region.config.shardMap.databaseFor(shardOf(sku, region.config.cluster.shardCount)).url;
const holdsOf = (reservationId: string): Promise<{ status: string }[]> =>
  sql(skuDb(SKU), `SELECT status FROM holds WHERE reservation_id = $1`, [reservationId]);
const allocationsOf = (reservationId: string): Promise<{ state: string }[]> =>
  sql(home(), `SELECT state FROM reservation_allocations WHERE reservation_id = $1`, [reservationId]);
const adjust = () =>
  call<{ onHand: number }>(region, 'POST', `/v1/warehouses/ret-1/stock/${SKU}/adjustments`, {
    body: { delta: 1, reason: 'received' },
    headers: { 'idempotency-key': adjustKey },
  });
const reserve = async (quantity: number): Promise<string> => {
  const made = await call<{ id: string; status: string }>(region, 'POST', '/v1/reservations', {
    body: { lines: [{ sku: SKU, quantity }], ttlSeconds: 86_400 },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(made.body).toMatchObject({ status: 'held' });
  return made.body.id;
};

beforeAll(async () => {
  region = await startTestRegion(
    'retention',
    {
      STOCKMESH_RESERVATION_RETENTION_HOURS: '1',
      STOCKMESH_HOLD_RETENTION_HOURS: '1',
      STOCKMESH_IDEMPOTENCY_RETENTION_HOURS: '1',
      // The test runs every pass itself.
      STOCKMESH_RETENTION_SWEEP_MS: '3600000',
    },
    { clock },
  );
  sweeper = region.app.get(RetentionSweeper);
  await call(region, 'PUT', '/v1/warehouses/ret-1', { body: { region: 'us-east', name: 'ret-1' } });
  await call(region, 'PUT', `/v1/warehouses/ret-1/stock/${SKU}`, { body: { onHand: 10 } });
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('retention', () => {
  it('keeps finished rows inside their retention, and a key inside it still replays', async () => {
    held = await reserve(2);
    done = await reserve(3);
    expect((await call(region, 'POST', `/v1/reservations/${done}/release`)).body).toMatchObject({ status: 'released' });
    await waitFor(async () => ((await allocationsOf(done)).every((a) => a.state === 'released') ? true : undefined), {
      what: 'the released reservation’s holds released at the owner',
    });
    expect((await adjust()).status).toBe(201);

    clock.advance(HOUR / 2);
    await sweeper.sweep();

    expect((await call(region, 'GET', `/v1/reservations/${done}`)).body).toMatchObject({ status: 'released' });
    expect(await holdsOf(done)).toEqual([{ status: 'released' }]);
    const replay = await adjust();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.onHand).toBe(11);
  });

  it('deletes finished rows past their retention, one instance at a time, and never open ones', async () => {
    clock.advance(HOUR + HOUR / 2);
    // Another instance holds the turn for reservations in the home database: this one skips it.
    const other = new pg.Client({ connectionString: home() });
    await other.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtext('stockmesh retention'), hashtext('reservations'))`);
      expect(await sweeper.sweep()).toMatchObject({ reservations: 0 });
      expect((await call(region, 'GET', `/v1/reservations/${done}`)).status).toBe(200);
    } finally {
      await other.end();
    }

    expect(await sweeper.sweep()).toMatchObject({ reservations: 1 });
    expect((await call(region, 'GET', `/v1/reservations/${done}`)).status).toBe(404);
    expect(await allocationsOf(done)).toEqual([]);
    expect(await holdsOf(done)).toEqual([]);
    // Still held, though older than every retention: never pruned.
    expect((await call(region, 'GET', `/v1/reservations/${held}`)).body).toMatchObject({ status: 'held' });
    expect(await allocationsOf(held)).toEqual([{ state: 'held' }]);
    expect(await holdsOf(held)).toEqual([{ status: 'held' }]);
    // The key is forgotten: the same request is new again.
    const again = await adjust();
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body.onHand).toBe(12);
  });

  it('deletes transfer receipts only once every copy of their events is gone', async () => {
    const transferId = `eu-west.${randomUUID()}`;
    await sql(
      skuDb(SKU),
      `INSERT INTO transfer_receipts (transfer_id, sku, from_warehouse_id, from_region, to_warehouse_id, quantity, outcome)
       VALUES ($1, $2, 'fra-1', 'eu-west', 'ret-1', 1, 'received')`,
      [transferId, SKU],
    );
    const receipt = (): Promise<unknown[]> => sql(skuDb(SKU), `SELECT 1 FROM transfer_receipts WHERE transfer_id = $1`, [transferId]);
    clock.advance(720 * HOUR); // the transfers topic's retention: a copy may still come
    await sweeper.sweep();
    expect(await receipt()).toHaveLength(1);
    clock.advance(121 * HOUR); // past the default 840 h
    await sweeper.sweep();
    expect(await receipt()).toEqual([]);
  });
});
