import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Transfers of stock between warehouses: the record at the source warehouse's owner, and the
 * receipts at the destination's owner that make applying a transfer exactly-once. Both live in
 * the database hosting the SKU's shard, next to the stock rows they change.
 */
export class Transfers1764200000000 implements MigrationInterface {
  name = 'Transfers1764200000000';

  async up(q: QueryRunner): Promise<void> {
    // Written in the transaction that takes the units out of the source row. `pending` until the
    // destination's owner reports that it settled the transfer: `completed` when it added the
    // units, `returned` when it could not hold them and they went back to the source row.
    await q.query(`
      CREATE TABLE transfers (
        id                 text     PRIMARY KEY,
        sku                text     NOT NULL,
        shard              smallint NOT NULL,
        from_warehouse_id  text     NOT NULL,
        from_region        text     NOT NULL,
        to_warehouse_id    text     NOT NULL,
        to_region          text     NOT NULL,
        quantity           bigint   NOT NULL CHECK (quantity > 0),
        status             text     NOT NULL CHECK (status IN ('pending', 'completed', 'returned')),
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT transfers_between_two_warehouses CHECK (from_warehouse_id <> to_warehouse_id)
      )`);
    // What is in transit: the units of pending transfers count towards the global stock.
    await q.query(`CREATE INDEX transfers_pending ON transfers (created_at) WHERE status = 'pending'`);

    // One row per transfer the destination settled, inserted in the replicator's transaction
    // before the units are added: a transfer delivered again finds its receipt and changes nothing.
    await q.query(`
      CREATE TABLE transfer_receipts (
        transfer_id        text     PRIMARY KEY,
        sku                text     NOT NULL,
        from_warehouse_id  text     NOT NULL,
        from_region        text     NOT NULL,
        to_warehouse_id    text     NOT NULL,
        quantity           bigint   NOT NULL CHECK (quantity > 0),
        outcome            text     NOT NULL CHECK (outcome IN ('received', 'refused')),
        received_at        timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE transfer_receipts`);
    await q.query(`DROP TABLE transfers`);
  }
}
