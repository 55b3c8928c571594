import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Kits (bundles): a SKU whose units are its components. Part of the catalog, so used only in a
 * region's home database, like `channels`: each region defines its own kits and holds every other
 * region's once replicated (`applied_at`). `components` is the JSON array of `{ sku, quantity }`
 * the kit takes per unit. A reservation line of a kit is held as its components' lines, each
 * remembering its kit in the reservation's `lines`, so no column changes elsewhere.
 */
export class Kits1765200000000 implements MigrationInterface {
  name = 'Kits1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE kits (
        sku         text PRIMARY KEY,
        region      text NOT NULL,
        components  jsonb NOT NULL CHECK (jsonb_typeof(components) = 'array' AND jsonb_array_length(components) >= 1),
        version     bigint NOT NULL DEFAULT 1,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        applied_at  timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kits`);
  }
}
