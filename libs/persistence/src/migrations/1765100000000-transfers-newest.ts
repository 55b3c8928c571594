import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /v1/transfers` pages through a region's transfers newest first, keyset by
 * (`created_at`, `id`) in byte order: this index serves each page as a range scan, whatever the
 * history's length.
 */
export class TransfersNewest1765100000000 implements MigrationInterface {
  name = 'TransfersNewest1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX transfers_newest ON transfers (created_at DESC, id COLLATE "C" DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX transfers_newest`);
  }
}
