import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases, type SqlTx } from '@stockmesh/persistence';
import { ReservationRepository, type NewAllocation } from '@stockmesh/reservations';
import { shardOf } from '@stockmesh/sharding';
import { StockRepository } from '../../libs/stock/src/stock.repository.js';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// The saga's start and decision are one statement each, run outside a transaction: every branch
// of what they write, and the fence against a takeover, on the real PostgreSQL. A hold alone is
// inserted and its units reserved in one statement. And the hold step's transaction settings,
// which travel with its BEGIN.
let region: TestRegion;
let databases: ShardDatabases;
let repository: ReservationRepository;

beforeAll(async () => {
  region = await startTestRegion('resvstmt');
  databases = region.app.get(ShardDatabases);
  repository = region.app.get(ReservationRepository);
  await call(region, 'PUT', '/v1/warehouses/own-1', { body: { region: 'us-east', name: 'own-1' } });
  await call(region, 'PUT', '/v1/warehouses/own-1/stock/ONE-SKU', { body: { onHand: 5, safetyStock: 2 } });
}, 60_000);

afterAll(async () => {
  await region?.close();
});

const home = <T>(work: (tx: SqlTx) => Promise<T>): Promise<T> => databases.autocommit(databases.home(), work);
const lease = (): Date => new Date(Date.now() + 60_000);

const pending = (id = `us-east.${randomUUID()}`, key = randomUUID()) => ({
  id,
  idempotencyKey: key,
  fingerprint: 'f',
  createdBy: 'admin',
  reference: null,
  ttlSeconds: 600,
  allowSplit: false,
  channel: null,
  lines: [{ sku: 'A', quantity: 1 }],
});

const allocation = (reservationId: string, allocationNo: number): NewAllocation => ({
  reservationId,
  allocationNo,
  lineNo: 0,
  sku: `S-${allocationNo}`,
  warehouseId: 'w1',
  region: 'us-east',
  quantity: 1,
});

/** A pending reservation with intents 1 to `count`; intent 4 (if any) already released by the saga. */
async function started(count: number): Promise<string> {
  const r = pending();
  expect(await home((tx) => repository.insertPendingWithIntent(tx, r, lease(), allocation(r.id, 1)))).toMatchObject({
    id: r.id,
    status: 'pending',
  });
  for (let no = 2; no <= count; no++) await home((tx) => repository.insertIntent(tx, allocation(r.id, no)));
  if (count >= 4) await home((tx) => repository.settleIntent(tx, r.id, 4, 'released'));
  return r.id;
}

async function allocations(id: string): Promise<Record<number, { state: string; target: string | null; backordered: string }>> {
  const rows = await home((tx) =>
    tx.query<{ allocation_no: number; state: string; target: string | null; backordered: string }>(
      `SELECT allocation_no, state, target, backordered FROM reservation_allocations WHERE reservation_id = $1`,
      [id],
    ),
  );
  return Object.fromEntries(rows.map((r) => [r.allocation_no, { state: r.state, target: r.target, backordered: r.backordered }]));
}

const statusOf = async (id: string): Promise<string> =>
  (await home((tx) => tx.query<{ status: string }>(`SELECT status FROM reservations WHERE id = $1`, [id])))[0].status;

describe('the saga start in one statement', () => {
  it('inserts the reservation with its first intent, and neither for a key used already', async () => {
    const first = pending();
    expect(await home((tx) => repository.insertPendingWithIntent(tx, first, lease(), allocation(first.id, 1)))).toBeDefined();
    const again = pending(`us-east.${randomUUID()}`, first.idempotencyKey);
    expect(await home((tx) => repository.insertPendingWithIntent(tx, again, lease(), allocation(again.id, 1)))).toBeUndefined();
    expect(Object.keys(await allocations(first.id))).toEqual(['1']);
    expect(await allocations(again.id)).toEqual({});
    const units = await home((tx) => tx.query<{ units: string }>(`SELECT units FROM reservations WHERE id = $1`, [first.id]));
    expect(units[0].units).toBe('1');
  });
});

describe('the saga decision in one statement', () => {
  it('held: the answers the saga kept are recorded, a leftover intent goes to the finisher to release, held holds stay', async () => {
    const id = await started(4);
    const settled = new Map<number, 'held' | 'refused'>([
      [1, 'held'],
      [2, 'refused'],
      // The saga released 4 itself: a late answer never reopens it.
      [4, 'held'],
    ]);
    expect(
      await home((tx) => repository.decide(tx, id, 'held', 201, { id }, new Date(Date.now() + 600_000), settled, new Map([[1, 3]]))),
    ).toBe(true);
    expect(await statusOf(id)).toBe('held');
    expect(await allocations(id)).toEqual({
      1: { state: 'held', target: null, backordered: '3' },
      2: { state: 'refused', target: null, backordered: '0' },
      3: { state: 'intent', target: 'release', backordered: '0' },
      4: { state: 'released', target: null, backordered: '0' },
    });
  });

  it('failed: every open allocation, held or never answered, goes to the finisher to release; refused ones do not', async () => {
    const id = await started(4);
    const settled = new Map<number, 'held' | 'refused'>([
      [1, 'held'],
      [2, 'refused'],
    ]);
    expect(await home((tx) => repository.decide(tx, id, 'failed', 409, { code: 'x' }, null, settled))).toBe(true);
    expect(await statusOf(id)).toBe('failed');
    expect(await allocations(id)).toEqual({
      1: { state: 'held', target: 'release', backordered: '0' },
      2: { state: 'refused', target: null, backordered: '0' },
      3: { state: 'intent', target: 'release', backordered: '0' },
      4: { state: 'released', target: null, backordered: '0' },
    });
  });

  it('changes nothing of a saga that recovery took over, and says so', async () => {
    const id = await started(2);
    // Recovery's takeover: the reservation is no longer pending.
    await home((tx) => tx.query(`UPDATE reservations SET status = 'failed', lease_until = NULL WHERE id = $1`, [id]));
    const before = await allocations(id);
    expect(await home((tx) => repository.decide(tx, id, 'held', 201, {}, new Date(), new Map([[1, 'held']])))).toBe(false);
    expect(await statusOf(id)).toBe('failed');
    expect(await allocations(id)).toEqual(before);
  });

  it('waits for a takeover in progress and then changes nothing', async () => {
    const id = await started(1);
    const recovery = new pg.Client({ connectionString: databases.home().url });
    await recovery.connect();
    try {
      await recovery.query('BEGIN');
      await recovery.query(`UPDATE reservations SET status = 'failed', lease_until = NULL WHERE id = $1`, [id]);
      const deciding = home((tx) => repository.decide(tx, id, 'held', 201, {}, new Date(), new Map([[1, 'held']])));
      // The decision waits on the reservation's row lock; the takeover commits meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await recovery.query('COMMIT');
      expect(await deciding).toBe(false);
    } finally {
      await recovery.end();
    }
    expect(await allocations(id)).toEqual({ 1: { state: 'intent', target: null, backordered: '0' } });
  });
});

describe('a hold alone in one statement', () => {
  const stock = () => region.app.get(StockRepository);
  const inShard = <T>(work: (tx: SqlTx) => Promise<T>): Promise<T> =>
    databases.inShard(shardOf('ONE-SKU', region.config.cluster.shardCount), work);
  const hold = (id: string, quantity: number) => ({
    id,
    reservationId: 'us-east.r',
    warehouseId: 'own-1',
    sku: 'ONE-SKU',
    quantity,
    expiresAt: new Date(Date.now() + 60_000),
  });
  const level = () =>
    inShard((tx) =>
      tx.query<{ reserved: string; version: string; holds: number }>(
        `SELECT reserved, version, (SELECT count(*)::int FROM holds WHERE sku = 'ONE-SKU') AS holds FROM stock WHERE sku = 'ONE-SKU'`,
      ),
    );

  it('inserts the hold and reserves its units, within the safety stock unless allowed into it', async () => {
    const [before] = await level();
    const placed = await inShard((tx) => stock().insertHoldAndReserve(tx, hold('h.1', 3), false));
    expect(placed.inserted).toBe(true);
    expect(placed.row).toMatchObject({ warehouseId: 'own-1', sku: 'ONE-SKU', onHand: 5, reserved: 3, safetyStock: 2 });
    expect(placed.row?.version).toBe(Number(before.version) + 1);
    expect(placed.row?.updatedAt).toBeInstanceOf(Date);
    // 2 left on hand, both safety stock: refused without the scope, taken with it.
    const refused = await inShard((tx) => stock().insertHoldAndReserve(tx, hold('h.2', 1), false));
    expect(refused).toEqual({ inserted: true });
    const intoSafety = await inShard((tx) => stock().insertHoldAndReserve(tx, hold('h.3', 2), true));
    expect(intoSafety.row).toMatchObject({ reserved: 5 });
  });

  it('changes nothing for a hold that exists, whatever the units', async () => {
    const [before] = await level();
    expect(await inShard((tx) => stock().insertHoldAndReserve(tx, hold('h.1', 1), true))).toEqual({ inserted: false });
    expect(await level()).toEqual([before]);
  });
});

describe('transaction settings in the BEGIN', () => {
  it('bound the waits of that transaction only', async () => {
    const db = databases.home();
    const settings = () =>
      databases.inDatabase(
        db,
        (tx) =>
          tx.query<{ lock: string; statement: string }>(
            `SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement`,
          ),
        { lockTimeoutMs: 250 },
      );
    expect(await settings()).toEqual([{ lock: '250ms', statement: '250ms' }]);
    // Local to the transaction: the pooled connection is back to the defaults.
    const after = await databases.inDatabase(db, (tx) => tx.query<{ lock: string }>(`SELECT current_setting('lock_timeout') AS lock`));
    expect(after).toEqual([{ lock: '0' }]);
  });

  it('make a lock wait past the bound fail the transaction, which rolls back whole', async () => {
    const db = databases.home();
    const sku = `T-${randomUUID()}`;
    await databases.autocommit(db, (tx) =>
      tx.query(`INSERT INTO kits (sku, region, components, version) VALUES ($1, 'us-east', '[{"sku": "X", "quantity": 1}]', 1)`, [sku]),
    );
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM kits WHERE sku = $1 FOR UPDATE`, [sku]);
      const waiting = databases.inDatabase(
        db,
        async (tx) => {
          await tx.query(`UPDATE kits SET version = 2 WHERE sku = $1`, [sku]);
          await tx.query(`UPDATE kits SET version = 3 WHERE sku = $1`, [sku]);
        },
        { lockTimeoutMs: 100 },
      );
      // Both bounds are the same: lock_timeout (55P03) or statement_timeout (57014) ends it.
      const error = (await waiting.then(
        () => undefined,
        (e: unknown) => e,
      )) as { driverError?: { code?: string } } | undefined;
      expect(['55P03', '57014']).toContain(error?.driverError?.code);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    const [kit] = await databases.read(db, (tx) => tx.query<{ version: string }>(`SELECT version FROM kits WHERE sku = $1`, [sku]));
    expect(kit.version).toBe('1');
  });
});
