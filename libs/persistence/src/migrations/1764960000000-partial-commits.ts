import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Partial commits: a commit may name fewer units than were held (an order edit, a partial
 * fulfilment); what it does not name is released.
 *
 * - `reservation_allocations.commit_quantity`: how many of the allocation's units the commit
 *   takes, decided with the commit; NULL means all of them (every commit before this migration).
 *   An allocation whose commit takes none is released instead.
 * - `holds.committed_quantity`: at the owner, how many units of a committed hold left `onHand`;
 *   NULL means all of them. The rest went back to `available` in the same transaction.
 */
export class PartialCommits1764960000000 implements MigrationInterface {
  name = 'PartialCommits1764960000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE reservation_allocations
        ADD COLUMN commit_quantity bigint CHECK (commit_quantity >= 0 AND commit_quantity <= quantity)`);
    await q.query(`
      ALTER TABLE holds
        ADD COLUMN committed_quantity bigint CHECK (committed_quantity >= 1 AND committed_quantity <= quantity)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE holds DROP COLUMN committed_quantity`);
    await q.query(`ALTER TABLE reservation_allocations DROP COLUMN commit_quantity`);
  }
}
