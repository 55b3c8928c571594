import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Incoming stock: the open receipts of a row (purchase orders, advance shipping notices), units
 * announced and not received yet, each with its expected day (docs/api.md, "Incoming stock").
 * At most MAX_INCOMING_RECEIPTS per row, so they live in the row, locked and versioned with it,
 * and travel whole in every `stock.changed` event of the row.
 *
 * - `stock.incoming`, `stock_replica.incoming`: the receipts as a JSON array, by expected day
 *   then id; `[]` for every row before this migration, and for events of owners that do not send
 *   them yet.
 * - `incoming_digest` (generated): what anti-entropy's row hash appends for the receipts, '' when
 *   there are none, so that a row without receipts hashes as it did before and regions on either
 *   side of the upgrade still agree on it. A 33-character digest rather than the array itself goes
 *   in the covering indexes of the digests (`stock_by_shard`, `stock_replica_by_shard`, made again
 *   with it), which therefore still read one index per shard, never the table, and whose entries
 *   stay far below a B-tree entry's size limit whatever the receipts.
 */
export class IncomingStock1765300000000 implements MigrationInterface {
  name = 'IncomingStock1765300000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['stock', 'stock_replica']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN incoming jsonb NOT NULL DEFAULT '[]'`);
      await q.query(
        `ALTER TABLE ${table} ADD COLUMN incoming_digest text NOT NULL
           GENERATED ALWAYS AS (CASE WHEN incoming = '[]'::jsonb THEN '' ELSE '/' || md5(incoming::text) END) STORED`,
      );
    }
    await q.query(`DROP INDEX stock_by_shard`);
    await q.query(
      `CREATE INDEX stock_by_shard ON stock (shard) INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, incoming_digest)`,
    );
    await q.query(`DROP INDEX stock_replica_by_shard`);
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region)
         INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, incoming_digest, applied_offset)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Dropping the columns drops the indexes that include them: make them again as they were.
    for (const table of ['stock', 'stock_replica']) {
      await q.query(`ALTER TABLE ${table} DROP COLUMN incoming_digest`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN incoming`);
    }
    await q.query(`CREATE INDEX stock_by_shard ON stock (shard) INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock)`);
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region)
         INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, applied_offset)`,
    );
  }
}
