import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys, in the home database like the catalog: every key of the cluster, made here or
 * replicated from the region that made or revoked it. Only the hash of a secret is stored.
 */
export class ApiKeys1764300000000 implements MigrationInterface {
  name = 'ApiKeys1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // A revoked key is kept (revoked_at set) rather than deleted: it is the tombstone that keeps
    // it revoked when an older event about it arrives. `version` is bumped by every change and
    // replicas keep the highest; `applied_at` is when a replicated change arrived here.
    await q.query(`
      CREATE TABLE api_keys (
        id           text        PRIMARY KEY,
        name         text        NOT NULL,
        scopes       text[]      NOT NULL CHECK (cardinality(scopes) > 0),
        secret_hash  text        NOT NULL,
        region       text        NOT NULL,
        version      bigint      NOT NULL DEFAULT 1 CHECK (version > 0),
        created_at   timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        applied_at   timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}
