import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reservation quotas per API key (docs/security.md, "Limits"): every reservation records the key
 * that made it (`created_by`, the key id) and the units it asks for (`units`, the sum of its
 * lines), so that a key's open reservations and units are one index range away. Reservations
 * made before this migration belong to no key and count against none.
 */
export class ReservationQuotas1764950000000 implements MigrationInterface {
  name = 'ReservationQuotas1764950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reservations ADD COLUMN created_by text, ADD COLUMN units bigint NOT NULL DEFAULT 0 CHECK (units >= 0)`);
    await q.query(`
      UPDATE reservations SET units = (SELECT coalesce(sum((l->>'quantity')::bigint), 0) FROM jsonb_array_elements(lines) l)
       WHERE status IN ('pending', 'held')`);
    // Open reservations only: the quota check reads a key's open ones, never its history.
    await q.query(`CREATE INDEX reservations_open_by_creator ON reservations (created_by) WHERE status IN ('pending', 'held')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX reservations_open_by_creator`);
    await q.query(`ALTER TABLE reservations DROP COLUMN created_by, DROP COLUMN units`);
  }
}
