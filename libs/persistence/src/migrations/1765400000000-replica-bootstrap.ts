import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `replica_bootstrap`, in a region's home database: one row while the region rebuilds its
 * replicas and catches up (see ReplicaBootstrap), opened before the rebuild stores any position
 * and closed once the catch-up is done. A region restarted in between finds it open and stays
 * not ready until it has caught up again, though every shard has a position by then.
 */
export class ReplicaBootstrap1765400000000 implements MigrationInterface {
  name = 'ReplicaBootstrap1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE replica_bootstrap (
        id           smallint    PRIMARY KEY CHECK (id = 1),
        started_at   timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE replica_bootstrap`);
  }
}
