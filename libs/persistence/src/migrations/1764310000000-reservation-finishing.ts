import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finishing decided reservations at the owners without retry storms or open transactions:
 * - an allocation names its `target` (commit or release) once its reservation is decided, so the
 *   finisher reads only open work through a partial index, never the reservations' history;
 * - `next_attempt_at` is both the claim (an instance pushes it past the time its calls can take,
 *   so no other instance takes the same row meanwhile) and the backoff after a failed attempt;
 * - a hold that its owner no longer has when the coordinator commits it is `lost`, and its
 *   reservation ends `commit-failed` instead of pretending to be `committed`; a reservation whose
 *   holds are still being committed is `committing`.
 */
export class ReservationFinishing1764310000000 implements MigrationInterface {
  name = 'ReservationFinishing1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reservations DROP CONSTRAINT reservations_status_check`);
    await q.query(`
      ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
        CHECK (status IN ('pending', 'held', 'committing', 'committed', 'commit-failed', 'released', 'expired', 'failed'))`);
    await q.query(`ALTER TABLE reservation_allocations DROP CONSTRAINT reservation_allocations_state_check`);
    await q.query(`
      ALTER TABLE reservation_allocations ADD CONSTRAINT reservation_allocations_state_check
        CHECK (state IN ('intent', 'held', 'refused', 'committed', 'released', 'lost'))`);
    await q.query(`
      ALTER TABLE reservation_allocations
        ADD COLUMN target          text CHECK (target IN ('commit', 'release')),
        ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
        ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
        ADD COLUMN last_error      text`);
    // Open work already decided under the old rules: the finisher used to find it by a join.
    await q.query(`
      UPDATE reservation_allocations a
         SET target = CASE WHEN r.status = 'committed' AND a.state = 'held' THEN 'commit' ELSE 'release' END
        FROM reservations r
       WHERE r.id = a.reservation_id AND a.state IN ('intent', 'held')
         AND (r.status IN ('committed', 'released', 'expired', 'failed') OR (a.state = 'intent' AND r.status = 'held'))`);
    await q.query(`
      UPDATE reservations r SET status = 'committing'
       WHERE r.status = 'committed'
         AND EXISTS (SELECT 1 FROM reservation_allocations a
                      WHERE a.reservation_id = r.id AND a.target = 'commit' AND a.state IN ('intent', 'held'))`);
    // What the finisher claims, soonest due first: O(open work), whatever the history holds.
    await q.query(`
      CREATE INDEX reservation_allocations_due ON reservation_allocations (next_attempt_at)
        WHERE target IS NOT NULL AND state IN ('intent', 'held')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX reservation_allocations_due`);
    // The old schema has no words for these: a lost hold becomes `refused` (nothing more is
    // asked of its owner) and both new reservation states read as the old `committed`.
    await q.query(`UPDATE reservation_allocations SET state = 'refused' WHERE state = 'lost'`);
    await q.query(`UPDATE reservations SET status = 'committed' WHERE status IN ('committing', 'commit-failed')`);
    await q.query(`
      ALTER TABLE reservation_allocations
        DROP COLUMN target, DROP COLUMN attempts, DROP COLUMN next_attempt_at, DROP COLUMN last_error`);
    await q.query(`ALTER TABLE reservation_allocations DROP CONSTRAINT reservation_allocations_state_check`);
    await q.query(`
      ALTER TABLE reservation_allocations ADD CONSTRAINT reservation_allocations_state_check
        CHECK (state IN ('intent', 'held', 'refused', 'committed', 'released'))`);
    await q.query(`ALTER TABLE reservations DROP CONSTRAINT reservations_status_check`);
    await q.query(`
      ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
        CHECK (status IN ('pending', 'held', 'committed', 'released', 'expired', 'failed'))`);
  }
}
