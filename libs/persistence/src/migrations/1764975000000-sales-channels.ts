import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sales channels: a channel names the warehouses it sells from, in the order it allocates from
 * them. Part of the catalog, so used only in a region's home database, like `warehouses`: each
 * region defines its own channels and holds every other region's once replicated (`applied_at`).
 * A reservation made for a channel remembers it (`reservations.channel`, NULL without one), and an
 * API key may be bound to one (`api_keys.channel`): its availability and reservations are the
 * channel's. A key's channel never changes, like its scopes.
 */
export class SalesChannels1764975000000 implements MigrationInterface {
  name = 'SalesChannels1764975000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE channels (
        id             text PRIMARY KEY,
        region         text NOT NULL,
        name           text NOT NULL,
        warehouse_ids  text[] NOT NULL CHECK (cardinality(warehouse_ids) >= 1),
        version        bigint NOT NULL DEFAULT 1,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        applied_at     timestamptz
      )`);
    await q.query(`ALTER TABLE reservations ADD COLUMN channel text`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN channel text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN channel`);
    await q.query(`ALTER TABLE reservations DROP COLUMN channel`);
    await q.query(`DROP TABLE channels`);
  }
}
