import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_TYPES, newEvent, type StockChangedData } from '@stockmesh/contracts';
import { ShardDatabases } from '@stockmesh/persistence';
import { EventAppliers } from '@stockmesh/replication';
import { shardOf } from '@stockmesh/sharding';
import { startTestRegion, type TestRegion } from '@stockmesh/testing';
import fc from 'fast-check';

// A replica fed any interleaving, duplication and reordering of one owner's events ends in the
// owner's state: the appliers of the real region, on the real PostgreSQL.
let region: TestRegion;
let databases: ShardDatabases;
let appliers: EventAppliers;

beforeAll(async () => {
  region = await startTestRegion('replprop');
  databases = region.app.get(ShardDatabases);
  appliers = region.app.get(EventAppliers);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

/** The owner's history of one row: versions 1..n, each with the state after that change. */
function history(warehouseId: string, sku: string, changes: readonly number[]): StockChangedData[] {
  let onHand = 0;
  return changes.map((delta, i) => {
    onHand = Math.max(0, onHand + delta);
    return {
      warehouseId,
      sku,
      region: 'eu-west',
      shard: shardOf(sku, 16),
      onHand,
      reserved: Math.min(onHand, i % 3),
      version: i + 1,
      updatedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      cause: { kind: 'adjustment', delta, reason: 'received', movementId: '00000000-0000-4000-8000-000000000000', actor: 'test' },
    };
  });
}

async function replicaRow(warehouseId: string, sku: string): Promise<{ on_hand: string; reserved: string; version: string } | undefined> {
  const [row] = await databases.read(databases.databaseFor(shardOf(sku, 16)), (tx) =>
    tx.query<{ on_hand: string; reserved: string; version: string }>(
      `SELECT on_hand, reserved, version FROM stock_replica WHERE warehouse_id = $1 AND sku = $2`,
      [warehouseId, sku],
    ),
  );
  return row;
}

describe('applying replicated stock events', () => {
  it('always ends in the owner’s final state, whatever the order and duplication', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -20, max: 50 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.infiniteStream(fc.nat()),
        async (changes, duplicates, shuffle) => {
          const sku = `SKU-P${run++}`;
          const events = history('fra-9', sku, changes);
          // Every event at least once, some several times, in a random order.
          const deliveries = [...events, ...duplicates.map((i) => events[i % events.length])];
          const order = deliveries.map((e) => ({ e, k: shuffle.next().value as number })).sort((a, b) => a.k - b.k);
          for (const { e } of order) {
            // One transaction per delivery, as the replicator applies them.
            await databases.inShard(e.shard, (tx) =>
              appliers.apply(
                tx,
                newEvent({ source: 'eu-west', type: EVENT_TYPES.stockChanged, time: e.updatedAt, subject: `x/${e.sku}`, data: e }),
              ),
            );
          }
          const final = events[events.length - 1];
          expect(await replicaRow('fra-9', sku)).toEqual({
            on_hand: String(final.onHand),
            reserved: String(final.reserved),
            version: String(final.version),
          });
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('throws for an event type no module applies, rather than dropping it', async () => {
    await expect(
      databases.inShard(0, (tx) =>
        appliers.apply(tx, {
          ...newEvent({
            source: 'eu-west',
            type: EVENT_TYPES.regionHeartbeat,
            time: new Date().toISOString(),
            subject: 'x',
            data: {} as never,
          }),
        }),
      ),
    ).rejects.toThrow(/no applier/);
  });
});
