import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { startTestRegion, type TestRegion } from '@stockmesh/testing';
import pg from 'pg';

// The outbox on the real PostgreSQL: a writer that took a lower sequence number but commits
// after the relay read the outbox must not lose its event to the relay's delete.
let region: TestRegion;

beforeAll(async () => {
  region = await startTestRegion('outbox');
}, 60_000);

afterAll(async () => {
  await region?.close();
});

const entry = (key: string) => ({ topic: 'stockmesh.stock.v1', partition: 0, record: { key, value: '{}', headers: { ce_id: key } } });

describe('the outbox', () => {
  it('keeps an event that committed after the relay read the outbox, though its sequence number is lower', async () => {
    const databases = region.app.get(ShardDatabases);
    const outbox = region.app.get(OutboxRepository);
    const db = databases.databaseFor(0);
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      // The slow writer takes its sequence number first and keeps its transaction open...
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO outbox (topic, partition, key, headers, value) VALUES ('stockmesh.stock.v1', 0, 'slow', '{}', '{}')`);
      // ...a fast writer commits after it, with a higher number.
      await databases.inDatabase(db, (tx) => outbox.append(tx, [entry('fast')]));
      // The relay sees only the fast one, publishes it and deletes what it published.
      await databases.inDatabase(db, async (tx) => {
        const rows = await outbox.oldest(tx, 100);
        expect(rows.map((r) => r.key)).toEqual(['fast']);
        await outbox.delete(
          tx,
          rows.map((r) => r.seq),
        );
      });
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    const left = await databases.read(db, (tx) => outbox.oldest(tx, 100));
    expect(left.map((r) => r.key)).toEqual(['slow']);
  });

  it('tells its listeners once a transaction that appended has committed, when the rows are visible, and never after a rollback', async () => {
    const databases = region.app.get(ShardDatabases);
    const outbox = region.app.get(OutboxRepository);
    const db = databases.databaseFor(0);
    const woken: { database: string; visible: boolean }[] = [];
    const key = `wake-${Date.now()}`;
    // What another connection sees when the listener runs: the relay reads from its own.
    const checks: Promise<void>[] = [];
    outbox.onAppended((database) => {
      const at = woken.push({ database, visible: false }) - 1;
      checks.push(
        databases.read(db, async (tx) => {
          const rows = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE key = $1`, [key]);
          woken[at].visible = rows[0].n === 1;
        }),
      );
    });
    await expect(
      databases.inDatabase(db, async (tx) => {
        await outbox.append(tx, [entry(`${key}-rolled-back`)]);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    expect(woken).toEqual([]);
    await databases.inDatabase(db, async (tx) => {
      await outbox.append(tx, [entry(key)]);
      // Not before the commit: the relay would find nothing and nap.
      expect(woken).toEqual([]);
    });
    await Promise.all(checks);
    expect(woken).toEqual([{ database: db.name, visible: true }]);
  });

  it('wakes the relay without NOTIFY: no trigger on the outbox takes PostgreSQL’s server-wide notify lock', async () => {
    const databases = region.app.get(ShardDatabases);
    for (const db of databases.all()) {
      const triggers = await databases.read(db, (tx) =>
        tx.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal`),
      );
      expect(triggers).toEqual([]);
    }
  });
});
