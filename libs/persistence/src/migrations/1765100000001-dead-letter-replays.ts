import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `dead_letter_replays`, in a region's home database: every replay of a dead letter an operator
 * asked for (`POST /v1/dead-letters/{id}/replay`), with its outcome. A letter is named by its
 * place in the dead-letter topic. At most one replay of a letter may be `applied`: the unique
 * partial index makes a second one fail, whatever races; `refused` replays (the cause is not fixed
 * yet) may be repeated and are all kept.
 */
export class DeadLetterReplays1765100000001 implements MigrationInterface {
  name = 'DeadLetterReplays1765100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dead_letter_replays (
        seq              bigserial   PRIMARY KEY,
        letter_partition integer     NOT NULL CHECK (letter_partition >= 0),
        letter_offset    bigint      NOT NULL CHECK (letter_offset >= 0),
        consumer         text        NOT NULL,
        outcome          text        NOT NULL CHECK (outcome IN ('applied', 'refused')),
        detail           text        NOT NULL,
        actor            text        NOT NULL,
        request_id       text,
        replayed_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX dead_letter_replays_applied_once ON dead_letter_replays (letter_partition, letter_offset) WHERE outcome = 'applied'`,
    );
    await q.query(`CREATE INDEX dead_letter_replays_by_letter ON dead_letter_replays (letter_partition, letter_offset, seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dead_letter_replays`);
  }
}
