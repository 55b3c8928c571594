import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holds expire at their owner: each hold carries the time until which the owner keeps it, renewed
 * by its coordinator, and the owner's sweeper releases holds still held past it plus a grace
 * period (docs/reservations.md).
 */
export class HoldExpiry1764330000000 implements MigrationInterface {
  name = 'HoldExpiry1764330000000';

  async up(q: QueryRunner): Promise<void> {
    // Null only for holds that are no longer held (tombstones, committed or released ones).
    await q.query(`ALTER TABLE holds ADD COLUMN expires_at timestamptz`);
    // Holds placed before this migration carried no expiry: give them the longest a reservation
    // can live (86,400 s) from their placing, so none is released while its reservation may live.
    await q.query(`UPDATE holds SET expires_at = created_at + interval '86400 seconds' WHERE status = 'held'`);
    // The sweeper's only query: the oldest expired holds still held. Held holds are open work,
    // so the index stays as small as the number of live holds, however long the history grows.
    await q.query(`CREATE INDEX holds_expiring ON holds (expires_at) WHERE status = 'held'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX holds_expiring`);
    await q.query(`ALTER TABLE holds DROP COLUMN expires_at`);
  }
}
