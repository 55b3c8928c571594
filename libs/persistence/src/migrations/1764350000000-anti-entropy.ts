import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Anti-entropy: an owner's digest of a shard and a replica's digest of one owner's rows of a
 * shard are each one aggregate over one index. The indexes carry every column the digest reads,
 * so the aggregate reads the index alone (an index-only scan) and not the table.
 * `stock_replica.applied_offset` is the live stock topic's offset of the event that last changed
 * the row (NULL when it came from the state topic): a replica compares a digest only for buckets
 * none of whose rows changed after the digest's point in the stream.
 */
export class AntiEntropy1764350000000 implements MigrationInterface {
  name = 'AntiEntropy1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stock_replica ADD COLUMN applied_offset bigint`);
    await q.query(`CREATE INDEX stock_by_shard ON stock (shard) INCLUDE (warehouse_id, sku, version, on_hand, reserved)`);
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region) INCLUDE (warehouse_id, sku, version, on_hand, reserved, applied_offset)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX stock_replica_by_shard`);
    await q.query(`DROP INDEX stock_by_shard`);
    await q.query(`ALTER TABLE stock_replica DROP COLUMN applied_offset`);
  }
}
