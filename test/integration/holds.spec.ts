import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { HoldService } from '@stockmesh/stock';
import { call, startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// The owner's side of holds on the real PostgreSQL: races between its own steps, and what it
// does on its own when no coordinator comes back.
let region: TestRegion;

const reservationId = (): string => `us-east.${randomUUID()}`;
const row = async (warehouse: string, sku: string): Promise<{ onHand: number; reserved: number; available: number }> =>
  (await call<{ onHand: number; reserved: number; available: number }>(region, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`)).body;

/** A connection of its own to the database hosting `sku`'s shard, outside the region's pools. */
async function connectionFor(sku: string): Promise<pg.Client> {
  const db = region.app.get(ShardDatabases).databaseFor(shardOf(sku, region.config.cluster.shardCount));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return client;
}

/** Resolves once some backend waits on a lock while running a statement that starts with `statement`. */
function blockedOn(observer: pg.Client, statement: string): Promise<true> {
  return waitFor(
    async () => {
      const { rows } = await observer.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND state = 'active' AND ltrim(query) LIKE $1`,
        [`${statement}%`],
      );
      return rows[0].n > 0 ? true : undefined;
    },
    { intervalMs: 10, what: `a statement ${statement}... waiting on a lock` },
  );
}

async function holdStatus(client: pg.Client, holdId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ status: string }>(`SELECT status FROM holds WHERE id = $1`, [holdId]);
  return rows[0]?.status;
}

beforeAll(async () => {
  region = await startTestRegion('holds');
  await call(region, 'PUT', '/v1/warehouses/own-1', { body: { region: 'us-east', name: 'own-1' } });
  for (const sku of ['SKU-RACE']) await call(region, 'PUT', `/v1/warehouses/own-1/stock/${sku}`, { body: { onHand: 10 } });
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('holds at the owner', () => {
  it('releases a hold whose place was still in flight when the release came (no hold stays held)', async () => {
    const holds = region.app.get(HoldService);
    const rid = reservationId();
    const holdId = `${rid}.1`;
    const target = { reservationId: rid, warehouseId: 'own-1', sku: 'SKU-RACE' };
    const blocker = await connectionFor('SKU-RACE');
    const observer = await connectionFor('SKU-RACE');
    try {
      // Another writer holds the stock row: the place inserts its hold row, then waits for the row.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM stock WHERE warehouse_id = 'own-1' AND sku = 'SKU-RACE' FOR UPDATE`);
      const placing = holds.place({ ...target, holdId, quantity: 3 });
      await blockedOn(observer, 'UPDATE stock');
      // The coordinator gave up on the place and compensates it with a release, which cannot
      // see the uncommitted hold row and so ends up waiting on it.
      const releasing = holds.release(holdId, target);
      await blockedOn(observer, 'INSERT INTO holds');
      await blocker.query('COMMIT');

      await expect(placing).resolves.toMatchObject({ holdId, status: 'held' });
      await expect(releasing).resolves.toMatchObject({ holdId, status: 'released' });
      expect(await holdStatus(observer, holdId)).toBe('released');
      expect(await row('own-1', 'SKU-RACE')).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    } finally {
      await blocker.end();
      await observer.end();
    }
  });
});
