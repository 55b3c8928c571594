import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CREATE_OUTBOX_NOTIFY } from './1763990000000-replication.js';

/**
 * The outbox no longer NOTIFYs. A transaction that notifies takes a server-wide lock from just
 * before its commit until the commit is done, so every outbox commit of every shard database on
 * the server (WAL flush included) waited for the others. The relay is woken in-process instead:
 * a write's own process relays it (see `OutboxRepository.onAppended`), and the relay polls, with
 * a backoff, for rows written elsewhere.
 */
export class OutboxWithoutNotify1764955000000 implements MigrationInterface {
  name = 'OutboxWithoutNotify1764955000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS outbox_notify ON outbox`);
    await q.query(`DROP FUNCTION IF EXISTS stockmesh_outbox_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of CREATE_OUTBOX_NOTIFY) await q.query(sql);
  }
}
