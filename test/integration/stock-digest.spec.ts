import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DIGEST_BUCKETS } from '@stockmesh/contracts';
import { ShardDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { bucketOf, differingBuckets } from '../../libs/stock/src/anti-entropy/bucket-digest.js';
import { bucketDigestSql } from '../../libs/stock/src/anti-entropy/stock-digest.sql.js';
import { StockReplicaRepository } from '../../libs/stock/src/stock-replica.repository.js';
import { StockRepository } from '../../libs/stock/src/stock.repository.js';

// The digests of anti-entropy on the real PostgreSQL: an owner's rows and a replica holding the
// same rows digest alike, the SQL sorts rows into the buckets the code does, and a damaged row
// shows in its bucket only.
let region: TestRegion;
let databases: ShardDatabases;
const SKUS = Array.from({ length: 300 }, (_, i) => `SKU-D${i}`);
const SHARD = shardOf(SKUS[0], 16);
const inShard = SKUS.filter((sku) => shardOf(sku, 16) === SHARD);

beforeAll(async () => {
  region = await startTestRegion('digest');
  databases = region.app.get(ShardDatabases);
  expect((await call(region, 'PUT', '/v1/warehouses/nyc-1', { body: { region: 'us-east', name: 'NYC' } })).status).toBe(201);
  for (const [i, sku] of inShard.entries()) {
    const answer = await call(region, 'PUT', `/v1/warehouses/nyc-1/stock/${sku}`, { body: { onHand: 10 + i } });
    expect(answer.status).toBe(200);
  }
  // The same rows as a replica would hold them, as if us-east were another region's view.
  await databases.inShard(SHARD, (tx) =>
    tx.query(
      `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, event_id)
       SELECT warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, 'copy' FROM stock WHERE shard = $1`,
      [SHARD],
    ),
  );
}, 120_000);

afterAll(async () => {
  await region?.close();
});

describe('stock digests', () => {
  const owner = (): Promise<{ bucket: number; rows: number; hash: string }[]> =>
    databases.read(databases.databaseFor(SHARD), (tx) => region.app.get(StockRepository).digest(tx, SHARD));
  const replicaWithMoves = (since: bigint): Promise<{ bucket: number; rows: number; hash: string; moved: boolean }[]> =>
    databases.read(databases.databaseFor(SHARD), (tx) => region.app.get(StockReplicaRepository).digest(tx, SHARD, 'us-east', since));
  const replica = async (): Promise<{ bucket: number; rows: number; hash: string }[]> =>
    (await replicaWithMoves(0n)).map(({ bucket, rows, hash }) => ({ bucket, rows, hash }));

  it('digests an owner’s rows and a replica of them alike, bucketed as bucketOf says', async () => {
    const ours = await owner();
    expect(ours).toEqual(await replica());
    expect(ours.reduce((sum, b) => sum + b.rows, 0)).toBe(inShard.length);
    const expected = new Map<number, number>();
    for (const sku of inShard) expected.set(bucketOf('nyc-1', sku), (expected.get(bucketOf('nyc-1', sku)) ?? 0) + 1);
    expect(new Map(ours.map((b) => [b.bucket, b.rows]))).toEqual(expected);
    for (const b of ours) {
      expect(b.bucket).toBeLessThan(DIGEST_BUCKETS);
      expect(b.hash).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('shows a changed count, version, reserved or safety stock in the row’s bucket only', async () => {
    const sku = inShard[3];
    for (const change of ['on_hand = on_hand + 1', 'version = version + 100', 'reserved = 1', 'safety_stock = 3']) {
      await databases.inShard(SHARD, (tx) => tx.query(`UPDATE stock_replica SET ${change} WHERE sku = $1`, [sku]));
      expect(differingBuckets(await owner(), await replica())).toEqual([bucketOf('nyc-1', sku)]);
      await databases.inShard(SHARD, (tx) =>
        tx.query(
          `UPDATE stock_replica r SET on_hand = s.on_hand, reserved = s.reserved, safety_stock = s.safety_stock, version = s.version
           FROM stock s WHERE r.sku = $1 AND s.sku = r.sku AND s.warehouse_id = r.warehouse_id`,
          [sku],
        ),
      );
      expect(differingBuckets(await owner(), await replica())).toEqual([]);
    }
  });

  it('digests a row whose safety stock the owner set and the replica has alike, and a row without one as before it existed', async () => {
    const sku = inShard[4];
    await databases.inShard(SHARD, (tx) => tx.query(`UPDATE stock SET safety_stock = 7 WHERE sku = $1`, [sku]));
    expect(differingBuckets(await owner(), await replica())).toEqual([bucketOf('nyc-1', sku)]);
    await databases.inShard(SHARD, (tx) => tx.query(`UPDATE stock_replica SET safety_stock = 7 WHERE sku = $1`, [sku]));
    expect(differingBuckets(await owner(), await replica())).toEqual([]);
    // A row without safety stock hashes as a region from before the column digests it.
    const [row] = await databases.read(databases.databaseFor(SHARD), (tx) =>
      tx.query<{ older: string }>(
        `SELECT lpad(to_hex(('x' || substr(md5(warehouse_id || '/' || sku || '/' || version || '/' || on_hand || '/' || reserved), 1, 16))::bit(64)::bigint), 16, '0') AS older
           FROM stock WHERE sku = $1`,
        [inShard[6]],
      ),
    );
    const [bucket] = await databases.read(databases.databaseFor(SHARD), (tx) =>
      tx.query<{ hash: string }>(bucketDigestSql('stock', 'shard = $1 AND sku = $2'), [SHARD, inShard[6]]),
    );
    expect(bucket?.hash).toBe(row?.older);
    await databases.inShard(SHARD, (tx) => tx.query(`UPDATE stock SET safety_stock = 0 WHERE sku = $1`, [sku]));
    await databases.inShard(SHARD, (tx) => tx.query(`UPDATE stock_replica SET safety_stock = 0 WHERE sku = $1`, [sku]));
  });

  it('marks the buckets of rows changed from a point of the live topic on', async () => {
    const sku = inShard[5];
    await databases.inShard(SHARD, (tx) => tx.query(`UPDATE stock_replica SET applied_offset = 10 WHERE sku = $1`, [sku]));
    const moved = (await replicaWithMoves(10n)).filter((b) => b.moved).map((b) => b.bucket);
    expect(moved).toEqual([bucketOf('nyc-1', sku)]);
    expect((await replicaWithMoves(11n)).some((b) => b.moved)).toBe(false);
  });

  it('reads one covering index per shard, not the table', async () => {
    const explain = (table: string, where: string): Promise<string> =>
      databases.inShard(SHARD, async (tx) => {
        // Few rows here, so the planner would rather scan the table: ask what it does without that choice.
        await tx.query(`SET LOCAL enable_seqscan = off`);
        await tx.query(`SET LOCAL enable_bitmapscan = off`);
        const plan = await tx.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT warehouse_id, sku, version, on_hand, reserved, safety_stock FROM ${table} WHERE ${where}`,
          [SHARD],
        );
        return plan.map((p) => p['QUERY PLAN']).join('\n');
      });
    expect(await explain('stock', 'shard = $1 AND version > 0')).toMatch(/Index Only Scan using stock_by_shard/);
    expect(await explain('stock_replica', `shard = $1 AND region = 'us-east'`)).toMatch(/Index Only Scan using stock_replica_by_shard/);
  });
});
