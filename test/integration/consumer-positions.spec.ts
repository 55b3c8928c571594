import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { ConsumerPositionsRepository } from '@stockmesh/replication';
import { startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';

// Consumer positions on the real PostgreSQL, as two instances of a region see them when a
// rebalance hands a partition from one to the other while the first still applies a batch.
let region: TestRegion;

beforeAll(async () => {
  region = await startTestRegion('positions');
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('consumer positions', () => {
  it('make a second applier of a partition that has no position yet wait for the first, then see where it ended', async () => {
    const databases = region.app.get(ShardDatabases);
    const positions = region.app.get(ConsumerPositionsRepository);
    const db = databases.databaseFor(0);
    const topic = 'stockmesh.test-positions.v1';
    let second: Promise<bigint | undefined> | undefined;
    let secondSettled = false;
    await databases.inDatabase(db, async (first) => {
      // The first instance applies the partition's first batch: nothing stored yet.
      expect(await positions.lock(first, topic, 3)).toBeUndefined();
      // The partition moves to another instance, which reads it from the start too.
      second = databases.inDatabase(db, (tx) => positions.lock(tx, topic, 3));
      void second.finally(() => (secondSettled = true));
      // It must wait for the first (a lock it cannot have yet), not apply the same records alongside.
      await waitFor(
        async () => {
          if (secondSettled) return 'settled';
          const [row] = await databases.read(db, (tx) =>
            tx.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`),
          );
          return Number(row.n) > 0 ? 'waiting' : undefined;
        },
        { what: 'the second applier to wait for the first' },
      );
      expect(secondSettled).toBe(false);
      await positions.save(first, topic, 3, 100n);
    });
    // Once the first committed, the second sees its position and skips what it applied.
    expect(await second).toBe(100n);
  });
});
