import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention: the sweeper that deletes finished rows past their retention finds the oldest of
 * them through these indexes, a batch at a time, so each pass reads what it deletes and nothing
 * of the open work or of the younger history (docs/configuration.md#retention).
 */
export class Retention1764400000000 implements MigrationInterface {
  name = 'Retention1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // Final reservations, oldest decision first; open ones (pending, held, committing) are not in it.
    await q.query(`
      CREATE INDEX reservations_final ON reservations (updated_at)
        WHERE status IN ('committed', 'commit-failed', 'released', 'expired', 'failed')`);
    // Committed and released holds (and release tombstones), oldest end first; held ones are not in it.
    await q.query(`CREATE INDEX holds_finished ON holds (updated_at) WHERE status <> 'held'`);
    await q.query(`CREATE INDEX transfer_receipts_by_age ON transfer_receipts (received_at)`);
    // idempotency_keys already has idempotency_keys_by_age (created_at).
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX transfer_receipts_by_age`);
    await q.query(`DROP INDEX holds_finished`);
    await q.query(`DROP INDEX reservations_final`);
  }
}
