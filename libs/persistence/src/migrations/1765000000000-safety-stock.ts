import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Safety stock: units of a row that storefront holds leave untouched (docs/reservations.md,
 * "Safety stock"). Set by the owner with a count; replicated with every `stock.changed` event.
 *
 * - `stock.safety_stock`: the owner's figure. It may exceed `on_hand` (available then shows 0),
 *   so the only invariant is that it is not negative. 0 for every row before this migration.
 * - `stock_replica.safety_stock`: the figure as last replicated; 0 for rows applied before, and
 *   for events of owners that do not send it yet.
 * - `stock_movements.safety_stock_after`: the row's safety stock after each ledger entry, so the
 *   ledger tells when and by whom it changed.
 * - The covering indexes of anti-entropy's digests (`stock_by_shard`, `stock_replica_by_shard`)
 *   are made again with `safety_stock`, which the row hash now covers: a digest still reads one
 *   index per shard, never the table.
 */
export class SafetyStock1765000000000 implements MigrationInterface {
  name = 'SafetyStock1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE stock
        ADD COLUMN safety_stock bigint NOT NULL DEFAULT 0 CONSTRAINT stock_safety_stock_non_negative CHECK (safety_stock >= 0)`);
    await q.query(`ALTER TABLE stock_replica ADD COLUMN safety_stock bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE stock_movements ADD COLUMN safety_stock_after bigint NOT NULL DEFAULT 0`);
    await q.query(`DROP INDEX stock_by_shard`);
    await q.query(`CREATE INDEX stock_by_shard ON stock (shard) INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock)`);
    await q.query(`DROP INDEX stock_replica_by_shard`);
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region)
         INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, applied_offset)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Dropping the columns drops the indexes that include them: make them again as they were.
    await q.query(`ALTER TABLE stock_movements DROP COLUMN safety_stock_after`);
    await q.query(`ALTER TABLE stock_replica DROP COLUMN safety_stock`);
    await q.query(`ALTER TABLE stock DROP COLUMN safety_stock`);
    await q.query(`CREATE INDEX stock_by_shard ON stock (shard) INCLUDE (warehouse_id, sku, version, on_hand, reserved)`);
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region) INCLUDE (warehouse_id, sku, version, on_hand, reserved, applied_offset)`,
    );
  }
}
