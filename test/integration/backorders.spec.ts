import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { call, signedCall, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { HoldRepository } from '../../libs/stock/src/holds/hold.repository.js';

// Backorders at the owner, on the real PostgreSQL, through the internal hold API a coordinator
// calls: a hold takes on hand first and the rest out of incoming stock; a commit sells its
// backordered units, which ship as they are received; a release or a partial commit gives back
// what it does not take; a receipt fills the oldest backorders first and never waits for a hold
// whose commit or release is running.
let region: TestRegion;

interface Row {
  onHand: number;
  reserved: number;
  available: number;
  backordered: number;
  incoming: { receiptId: string; quantity: number }[];
  code?: string;
}
interface HoldAnswer {
  status: string;
  backordered: number;
  code?: string;
}

const W = 'bo-1';
const stockPath = (sku: string): string => `/v1/warehouses/${W}/stock/${sku}`;
const row = async (sku: string): Promise<Row> => (await call<Row>(region, 'GET', stockPath(sku))).body;

/** A row with `onHand` units and one receipt `po-1` expecting `incoming`. */
async function stocked(sku: string, onHand: number, incoming: number): Promise<void> {
  expect((await call(region, 'PUT', stockPath(sku), { body: { onHand } })).status).toBe(200);
  expect(
    (await call(region, 'PUT', `${stockPath(sku)}/incoming/po-1`, { body: { quantity: incoming, expectedAt: '2027-03-01' } })).status,
  ).toBe(200);
}

const receive = (sku: string, quantity: number): ReturnType<typeof call<Row>> =>
  call<Row>(region, 'POST', `${stockPath(sku)}/incoming/po-1/receive`, { body: { quantity } });

/** A hold of `quantity` units of `sku` for a new reservation, as its coordinator places it. */
async function place(
  sku: string,
  quantity: number,
  allowBackorder = true,
): Promise<{ holdId: string; target: object; answer: HoldAnswer; status: number }> {
  const reservationId = `us-east.${randomUUID()}`;
  const holdId = `${reservationId}.1`;
  const target = { reservationId, warehouseId: W, sku };
  const placed = await signedCall<HoldAnswer>(region, 'PUT', `/internal/v1/holds/${holdId}`, {
    body: { ...target, quantity, ttlSeconds: 900, ...(allowBackorder ? { allowBackorder } : {}) },
  });
  return { holdId, target, answer: placed.body, status: placed.status };
}

/** A connection of its own to the database hosting `sku`'s shard, outside the region's pools. */
async function connectionFor(sku: string): Promise<pg.Client> {
  const db = region.app.get(ShardDatabases).databaseFor(shardOf(sku, region.config.cluster.shardCount));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return client;
}

const step = (holdId: string, verb: 'commit' | 'release', body: object): ReturnType<typeof signedCall<HoldAnswer>> =>
  signedCall<HoldAnswer>(region, 'POST', `/internal/v1/holds/${holdId}/${verb}`, { body });

beforeAll(async () => {
  region = await startTestRegion('backorders');
  await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } });
}, 90_000);

afterAll(async () => {
  await region?.close();
});

describe('backorders at the owner', () => {
  it('holds on hand first and the rest out of incoming stock, only when allowed', async () => {
    await stocked('BO-PLACE', 1, 5);
    const ordinary = await place('BO-PLACE', 3, false);
    expect(ordinary.status).toBe(409);
    expect(ordinary.answer.code).toBe('insufficient-stock');
    const held = await place('BO-PLACE', 3);
    expect(held.status).toBe(201);
    expect(held.answer).toMatchObject({ status: 'held', backordered: 2 });
    expect(await row('BO-PLACE')).toMatchObject({ onHand: 1, reserved: 1, available: 0, backordered: 2 });
    // 3 more expected and not promised: 4 is one too many.
    const tooMany = await place('BO-PLACE', 4);
    expect(tooMany.status).toBe(409);
    expect((tooMany.answer as unknown as { available: number }).available).toBe(3);
  });

  it('sells backordered units on commit, and ships them as they are received', async () => {
    await stocked('BO-SOLD', 1, 5);
    const { holdId, target } = await place('BO-SOLD', 3);
    expect((await step(holdId, 'commit', target)).body).toMatchObject({ status: 'committed', backordered: 2 });
    // The unit on hand left; the 2 backordered stay promised.
    expect(await row('BO-SOLD')).toMatchObject({ onHand: 0, reserved: 0, backordered: 2 });
    // The retention sweep, even with every finished hold due, keeps a sale still waiting for its units.
    const databases = region.app.get(ShardDatabases);
    const db = databases.databaseFor(shardOf('BO-SOLD', region.config.cluster.shardCount));
    const farFuture = new Date(Date.now() + 3_600_000);
    await databases.inDatabase(db, (tx) => region.app.get(HoldRepository).pruneFinished(tx, farFuture, 10_000));
    const client = await connectionFor('BO-SOLD');
    try {
      const { rows } = await client.query<{ backordered: string }>(`SELECT backordered FROM holds WHERE id = $1`, [holdId]);
      expect(rows.map((r) => Number(r.backordered))).toEqual([2]);
    } finally {
      await client.end();
    }
    const received = await receive('BO-SOLD', 3);
    expect(received.status).toBe(201);
    // 3 in, 2 of them shipped at once to the sale; 1 left for sale.
    expect(received.body).toMatchObject({
      onHand: 1,
      reserved: 0,
      available: 1,
      backordered: 0,
      incoming: [{ receiptId: 'po-1', quantity: 2 }],
    });
    const ledger = await call<{ items: { kind: string; delta: number; reason: string }[] }>(
      region,
      'GET',
      `${stockPath('BO-SOLD')}/movements`,
    );
    expect(ledger.body.items.slice(0, 2).map((m) => `${m.kind}:${m.delta}:${m.reason}`)).toEqual([
      'commit:-2:backorder',
      'adjustment:3:received',
    ]);
  });

  it('gives back both kinds of units on release, and on the part of a partial commit it does not take', async () => {
    await stocked('BO-BACK', 2, 6);
    const released = await place('BO-BACK', 4);
    expect(released.answer.backordered).toBe(2);
    expect((await step(released.holdId, 'release', released.target)).body).toMatchObject({ status: 'released', backordered: 0 });
    expect(await row('BO-BACK')).toMatchObject({ onHand: 2, reserved: 0, backordered: 0 });

    const partial = await place('BO-BACK', 5);
    expect(partial.answer.backordered).toBe(3);
    // 3 of 5 sold: the 2 on hand and 1 backordered; the other 2 backordered are given back.
    expect((await step(partial.holdId, 'commit', { ...partial.target, quantity: 3 })).body).toMatchObject({
      status: 'committed',
      backordered: 1,
    });
    expect(await row('BO-BACK')).toMatchObject({ onHand: 0, reserved: 0, backordered: 1 });
    expect((await receive('BO-BACK', 1)).body).toMatchObject({ onHand: 0, backordered: 0 });
    // A receipt with nothing left to fill puts its units up for sale.
    expect((await receive('BO-BACK', 2)).body).toMatchObject({ onHand: 2, available: 2, backordered: 0 });
  });

  it('fills the oldest backorders first, passing over one whose commit or release is running, without waiting for it', async () => {
    await stocked('BO-FIFO', 0, 6);
    const [a, b, c] = [await place('BO-FIFO', 2), await place('BO-FIFO', 2), await place('BO-FIFO', 2)];
    expect(await row('BO-FIFO')).toMatchObject({ reserved: 0, backordered: 6 });
    const db = region.app.get(ShardDatabases).databaseFor(shardOf('BO-FIFO', region.config.cluster.shardCount));
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      // Hold a's row is locked, as by its commit or release in flight.
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM holds WHERE id = $1 FOR UPDATE`, [a.holdId]);
      const received = await receive('BO-FIFO', 3);
      expect(received.status).toBe(201);
      // a passed over; b filled (2), then c in part (1).
      expect(received.body).toMatchObject({ onHand: 3, reserved: 3, backordered: 3 });
      const { rows } = await other.query<{ id: string; backordered: string }>(
        `SELECT id, backordered FROM holds WHERE id = ANY($1::text[]) ORDER BY created_at, id`,
        [[a.holdId, b.holdId, c.holdId]],
      );
      expect(Object.fromEntries(rows.map((r) => [r.id, Number(r.backordered)]))).toEqual({ [a.holdId]: 2, [b.holdId]: 0, [c.holdId]: 1 });
      await other.query('ROLLBACK');
    } finally {
      await other.end();
    }
    // The next receipt fills a, then what is left of c.
    expect((await receive('BO-FIFO', 3)).body).toMatchObject({ onHand: 6, reserved: 6, backordered: 0, incoming: [] });
  });

  it('receives nothing (503 busy, ask again) when passing over a hold would leave promises without units', async () => {
    await stocked('BO-BUSY', 0, 4);
    const a = await place('BO-BUSY', 4);
    const before = await row('BO-BUSY');
    const other = await connectionFor('BO-BUSY');
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM holds WHERE id = $1 FOR UPDATE`, [a.holdId]);
      // Receiving all 4 closes the receipt; a, the only backorder, cannot be filled now.
      const refused = await receive('BO-BUSY', 4);
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('busy');
      expect(await row('BO-BUSY')).toEqual(before);
      await other.query('ROLLBACK');
    } finally {
      await other.end();
    }
    const received = await receive('BO-BUSY', 4);
    expect(received.status).toBe(201);
    expect(received.body).toMatchObject({ onHand: 4, reserved: 4, backordered: 0, incoming: [] });
  });

  it('never refuses a receipt for promises that were without units before it', async () => {
    await stocked('BO-OVER', 0, 4);
    const held = await place('BO-OVER', 4);
    expect(held.answer.backordered).toBe(4);
    // Made by hand, as a receipt passing over a locked hold could once leave it: 4 promised, 1 expected.
    const client = await connectionFor('BO-OVER');
    try {
      const receipts = JSON.stringify([{ receiptId: 'po-1', quantity: 1, expectedAt: '2027-03-01' }]);
      await client.query(`UPDATE stock SET incoming = $2::jsonb WHERE warehouse_id = $1 AND sku = 'BO-OVER'`, [W, receipts]);
    } finally {
      await client.end();
    }
    // Another receipt of 2 (1 promise without units left) is received whole and fills 2: still 1 without units.
    expect(
      (await call(region, 'PUT', `${stockPath('BO-OVER')}/incoming/po-2`, { body: { quantity: 2, expectedAt: '2027-03-02' } })).status,
    ).toBe(200);
    const received = await call<Row>(region, 'POST', `${stockPath('BO-OVER')}/incoming/po-2/receive`, { body: { quantity: 2 } });
    expect(received.status).toBe(201);
    expect(received.body).toMatchObject({ onHand: 2, reserved: 2, backordered: 2, incoming: [{ receiptId: 'po-1', quantity: 1 }] });
    // Cutting the receipts further is refused.
    const cut = await call<Row>(region, 'DELETE', `${stockPath('BO-OVER')}/incoming/po-1`);
    expect(cut.status).toBe(409);
    expect(cut.body.code).toBe('incoming-promised');
  });
});
