import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Transfers that end even when their events do not arrive: cancel before receipt, and a
 * reconciler that asks the destination about every transfer pending past its timeout.
 *
 * - `transfers.status` gains `cancelled` (the destination never received it: the units went back
 *   to the source) and `failed` (the units could come back neither to the destination nor to the
 *   source row, which stayed full through every retry: they were written off, see docs/api.md).
 * - `next_check_at` is when the reconciler next looks at a pending transfer (its dispatch plus the
 *   timeout, then per-transfer backoff); `check_attempts` counts the looks; `resolution` keeps what
 *   the destination decided while the units wait for room at the source; `status_reason` says why
 *   a transfer ended cancelled or failed.
 * - `transfer_receipts.outcome` gains `cancelled`: the destination's tombstone of a transfer it
 *   never received. It is claimed with the same primary key as a receipt, so of a cancel and a
 *   receipt exactly one wins.
 */
export class TransferReconciliation1764917000000 implements MigrationInterface {
  name = 'TransferReconciliation1764917000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE transfers DROP CONSTRAINT transfers_status_check`);
    await q.query(`
      ALTER TABLE transfers
        ADD CONSTRAINT transfers_status_check CHECK (status IN ('pending', 'completed', 'returned', 'cancelled', 'failed')),
        ADD COLUMN next_check_at  timestamptz,
        ADD COLUMN check_attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN resolution     text CHECK (resolution IN ('refused', 'cancelled')),
        ADD COLUMN status_reason  text`);
    // Transfers already in transit get the default timeout (15 minutes) from their dispatch.
    await q.query(`UPDATE transfers SET next_check_at = created_at + interval '15 minutes' WHERE status = 'pending'`);
    // The reconciler's one query reads due pending transfers only: O(open transfers), not O(history).
    await q.query(`DROP INDEX transfers_pending`);
    await q.query(`CREATE INDEX transfers_due ON transfers (next_check_at) WHERE status = 'pending'`);

    await q.query(`ALTER TABLE transfer_receipts DROP CONSTRAINT transfer_receipts_outcome_check`);
    await q.query(
      `ALTER TABLE transfer_receipts ADD CONSTRAINT transfer_receipts_outcome_check CHECK (outcome IN ('received', 'refused', 'cancelled'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // A cancelled receipt becomes a refused one: either keeps a late dispatched event from adding units.
    await q.query(`ALTER TABLE transfer_receipts DROP CONSTRAINT transfer_receipts_outcome_check`);
    await q.query(`UPDATE transfer_receipts SET outcome = 'refused' WHERE outcome = 'cancelled'`);
    await q.query(
      `ALTER TABLE transfer_receipts ADD CONSTRAINT transfer_receipts_outcome_check CHECK (outcome IN ('received', 'refused'))`,
    );

    await q.query(`DROP INDEX transfers_due`);
    await q.query(`CREATE INDEX transfers_pending ON transfers (created_at) WHERE status = 'pending'`);
    // Cancelled units went back to the source, as returned ones do; failed ones left no row to say so.
    await q.query(`ALTER TABLE transfers DROP CONSTRAINT transfers_status_check`);
    await q.query(`UPDATE transfers SET status = 'returned' WHERE status IN ('cancelled', 'failed')`);
    await q.query(`
      ALTER TABLE transfers
        ADD CONSTRAINT transfers_status_check CHECK (status IN ('pending', 'completed', 'returned')),
        DROP COLUMN next_check_at,
        DROP COLUMN check_attempts,
        DROP COLUMN resolution,
        DROP COLUMN status_reason`);
  }
}
