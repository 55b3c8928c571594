import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Anti-entropy: an owner's digest of a shard and a replica's digest of one owner's rows of a
 * shard are each one aggregate over one index. The indexes carry every column the digest hashes,
 * so the aggregate reads the index alone (an index-only scan) and not the table.
 */
export class AntiEntropy1764300000000 implements MigrationInterface {
  name = 'AntiEntropy1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX stock_by_shard ON stock (shard) INCLUDE (warehouse_id, sku, version, on_hand, reserved)`);
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region) INCLUDE (warehouse_id, sku, version, on_hand, reserved)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX stock_replica_by_shard`);
    await q.query(`DROP INDEX stock_by_shard`);
  }
}
