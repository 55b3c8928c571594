import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TOPICS } from '@stockmesh/contracts';
import { ShardDatabases } from '@stockmesh/persistence';
import { ConsumerPositionsRepository, ReplicaBootstrap } from '@stockmesh/replication';
import { startTestRegion, type TestRegion } from '@stockmesh/testing';

// Whether a region that starts without replicas may say it is ready, on the real PostgreSQL: each
// `new ReplicaBootstrap` is one process of the region (a restart, or another instance), sharing
// its databases. Kafka's part (the end offsets) is given by hand.
let region: TestRegion;
let databases: ShardDatabases;
let positions: ConsumerPositionsRepository;
const instance = (): ReplicaBootstrap => new ReplicaBootstrap(region.config, databases, positions);

beforeAll(async () => {
  region = await startTestRegion('bootstrap');
  databases = region.app.get(ShardDatabases);
  positions = region.app.get(ConsumerPositionsRepository);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('a region bootstrapping its replicas', () => {
  it('stays not ready across a restart after its rebuild, until it has caught up; then for good', async () => {
    const first = instance();
    expect((await first.status()).phase).toBe('checking');
    // Shards without a position: a region joining the cluster.
    expect(await first.begin([0, 1, 2])).toBe(true);
    expect((await first.status()).phase).toBe('rebuilding');
    // Rebuilt: the stock shards got their positions; what the topics held then is the mark.
    const stockShard = 3;
    await databases.inShard(stockShard, (tx) => positions.save(tx, TOPICS.stock, stockShard, 7n));
    first.catchUpTo(
      new Map([
        [TOPICS.stock, new Map([[stockShard, 10n]])],
        [TOPICS.catalog, new Map([[0, 4n]])],
        // Partitions without records need nothing.
        [TOPICS.apiKeys, new Map([[0, 0n]])],
      ]),
    );
    expect(await first.status()).toEqual({ phase: 'catching-up', partitionsBehind: 2 });

    // Restarted now, every shard has a position: it must still not say ready.
    const restarted = instance();
    expect(await restarted.begin([])).toBe(true);
    expect((await restarted.status()).phase).toBe('rebuilding');

    await databases.inShard(stockShard, (tx) => positions.save(tx, TOPICS.stock, stockShard, 10n));
    expect(await first.status()).toEqual({ phase: 'catching-up', partitionsBehind: 1 });
    await databases.inDatabase(databases.home(), (tx) => positions.save(tx, TOPICS.catalog, 0, 5n));
    expect(await first.status()).toEqual({ phase: 'complete' });

    // Done for every later start that finds every position.
    const later = instance();
    expect(await later.begin([])).toBe(false);
    expect(await later.status()).toEqual({ phase: 'complete' });
    // A shard that lost its position (a database restored) opens a bootstrap again.
    const wiped = instance();
    expect(await wiped.begin([5])).toBe(true);
    expect(await instance().begin([])).toBe(true);
  });

  it('never moves a position back when a late rebuild stores its own', async () => {
    const db = databases.databaseFor(0);
    const topic = 'stockmesh.test-bootstrap.v1';
    await databases.inDatabase(db, (tx) => positions.save(tx, topic, 2, 50n));
    await databases.inDatabase(db, (tx) => positions.saveIfAbsent(tx, topic, 2, 20n));
    await databases.inDatabase(db, (tx) => positions.saveIfAbsent(tx, topic, 4, 20n));
    const stored = await databases.read(db, (tx) => positions.all(tx, topic));
    expect(stored).toEqual(
      new Map([
        [2, 50n],
        [4, 20n],
      ]),
    );
  });
});
