import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency scopes name their caller: `<principal> <METHOD> <canonical resource>` instead of
 * `<METHOD> <raw path>`. Keys stored before were all made by the one caller there was
 * (`anonymous`), so they move to its scope and a retry across the upgrade still replays. Paths
 * stored in another spelling than the canonical one keep it and are not found again: that is the
 * bug this fixes, and those keys leave with the retention (24 h).
 */
export class IdempotencyScope1764400000001 implements MigrationInterface {
  name = 'IdempotencyScope1764400000001';

  async up(q: QueryRunner): Promise<void> {
    // HTTP scopes only; command ids (`kafka ...`) keep theirs.
    await q.query(`UPDATE idempotency_keys SET scope = 'anonymous ' || scope WHERE scope ~ '^[A-Z]+ /'`);
    // A reservation remembers its key in one column, now with its scope (`scopedKey`).
    await q.query(`UPDATE reservations SET idempotency_key = 'anonymous POST /v1/reservations ' || idempotency_key`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Lossy for keys of other principals: the old schema had no callers, so their keys are cut to
    // the bare key, and two callers' equal keys would collide; only `anonymous` ones existed before.
    await q.query(`UPDATE reservations SET idempotency_key = regexp_replace(idempotency_key, '^.* ', '')`);
    await q.query(`UPDATE idempotency_keys SET scope = regexp_replace(scope, '^[^ ]+ ', '') WHERE scope ~ '^[^ ]+ [A-Z]+ /'`);
  }
}
