import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The schema every physical shard database of a region carries. The catalog (`warehouses`) is
 * used only in the region's home database (the one hosting shard 0); the other tables hold the
 * rows of the shards the database hosts.
 */
export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE warehouses (
        id          text PRIMARY KEY,
        region      text NOT NULL,
        name        text NOT NULL,
        latitude    double precision,
        longitude   double precision,
        version     bigint NOT NULL DEFAULT 1,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // The three CHECKs are the stock invariants; the service refuses a change that would break one
    // before it reaches them, so a violation here is a bug, never a client error.
    await q.query(`
      CREATE TABLE stock (
        warehouse_id text     NOT NULL,
        sku          text     NOT NULL,
        shard        smallint NOT NULL,
        region       text     NOT NULL,
        on_hand      bigint   NOT NULL,
        reserved     bigint   NOT NULL DEFAULT 0,
        version      bigint   NOT NULL,
        updated_at   timestamptz NOT NULL,
        PRIMARY KEY (warehouse_id, sku),
        CONSTRAINT stock_on_hand_non_negative  CHECK (on_hand >= 0),
        CONSTRAINT stock_reserved_non_negative CHECK (reserved >= 0),
        CONSTRAINT stock_available_non_negative CHECK (on_hand >= reserved)
      )`);
    await q.query(`CREATE INDEX stock_by_sku ON stock (sku)`);
    await q.query(`
      CREATE TABLE stock_movements (
        seq             bigserial PRIMARY KEY,
        id              uuid     NOT NULL UNIQUE DEFAULT gen_random_uuid(),
        warehouse_id    text     NOT NULL,
        sku             text     NOT NULL,
        shard           smallint NOT NULL,
        kind            text     NOT NULL,
        delta           bigint   NOT NULL,
        reason          text     NOT NULL,
        on_hand_after   bigint   NOT NULL,
        reserved_after  bigint   NOT NULL,
        version         bigint   NOT NULL,
        actor           text     NOT NULL,
        request_id      text,
        idempotency_key text,
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX stock_movements_by_row ON stock_movements (warehouse_id, sku, seq DESC)`);
    // One row per (scope, key): written in the same transaction as the change it guards, so a
    // replayed request either finds the first answer or finds nothing and nothing was changed.
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope        text NOT NULL,
        key          text NOT NULL,
        fingerprint  text NOT NULL,
        status_code  smallint NOT NULL,
        response     json NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`DROP TABLE stock_movements`);
    await q.query(`DROP TABLE stock`);
    await q.query(`DROP TABLE warehouses`);
  }
}
