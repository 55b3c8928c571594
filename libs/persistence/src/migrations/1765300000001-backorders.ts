import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Backorders: a reservation that allows them may hold units a warehouse expects (its open
 * incoming receipts) when it does not have them on hand (docs/reservations.md, "Backorders").
 *
 * - `stock.backordered`: units of the row promised out of its incoming receipts, by holds still
 *   held or committed (sold) and not filled yet. The owner keeps it at most the units its receipts
 *   still expect. `stock_replica.backordered`: as last replicated (0 from owners that do not send it).
 * - `holds.backordered`: of a hold's units, those not on hand yet. Receiving units of the row fills
 *   the oldest holds' backorders first (a held one's units become reserved, a committed one's leave
 *   on-hand as they arrive).
 * - `reservation_allocations.backordered`: what the owner said was backordered when it placed the hold.
 * - The row hash of anti-entropy appends `/b<backordered>` when it is not 0, so the covering indexes
 *   of the digests are made again with the column.
 */
export class Backorders1765300000001 implements MigrationInterface {
  name = 'Backorders1765300000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE stock ADD COLUMN backordered bigint NOT NULL DEFAULT 0 CONSTRAINT stock_backordered_non_negative CHECK (backordered >= 0)`,
    );
    await q.query(`ALTER TABLE stock_replica ADD COLUMN backordered bigint NOT NULL DEFAULT 0`);
    await q.query(
      `ALTER TABLE holds ADD COLUMN backordered bigint NOT NULL DEFAULT 0
         CONSTRAINT holds_backordered_within_quantity CHECK (backordered >= 0 AND backordered <= quantity)`,
    );
    // Which of a row's holds wait for incoming units, oldest first: what a receipt fills.
    await q.query(`CREATE INDEX holds_backordered ON holds (warehouse_id, sku, created_at, id) WHERE backordered > 0`);
    await q.query(`ALTER TABLE reservation_allocations ADD COLUMN backordered bigint NOT NULL DEFAULT 0`);
    await q.query(`DROP INDEX stock_by_shard`);
    await q.query(
      `CREATE INDEX stock_by_shard ON stock (shard)
         INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, incoming_digest, backordered)`,
    );
    await q.query(`DROP INDEX stock_replica_by_shard`);
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region)
         INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, incoming_digest, backordered, applied_offset)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reservation_allocations DROP COLUMN backordered`);
    await q.query(`DROP INDEX holds_backordered`);
    await q.query(`ALTER TABLE holds DROP COLUMN backordered`);
    await q.query(`ALTER TABLE stock_replica DROP COLUMN backordered`);
    await q.query(`ALTER TABLE stock DROP COLUMN backordered`);
    await q.query(
      `CREATE INDEX stock_by_shard ON stock (shard) INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, incoming_digest)`,
    );
    await q.query(
      `CREATE INDEX stock_replica_by_shard ON stock_replica (shard, region)
         INCLUDE (warehouse_id, sku, version, on_hand, reserved, safety_stock, incoming_digest, applied_offset)`,
    );
  }
}
