import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases, type SqlTx } from '@stockmesh/persistence';
import { startTestRegion, type TestRegion } from '@stockmesh/testing';

// Named prepared statements on the real PostgreSQL: a parameterised statement is prepared once
// per connection, and a schema change that alters its result columns (a migration made by
// another instance during a rolling upgrade) does not fail the work that runs it next.
const POOL = 3;
let region: TestRegion;
let databases: ShardDatabases;

beforeAll(async () => {
  region = await startTestRegion('prepared', { STOCKMESH_DB_POOL_SIZE: String(POOL) });
  databases = region.app.get(ShardDatabases);
  await databases.autocommit(databases.home(), (tx) => tx.query(`CREATE TABLE prepared_probe (id int PRIMARY KEY)`));
  await databases.autocommit(databases.home(), (tx) => tx.query(`INSERT INTO prepared_probe VALUES (1)`));
}, 60_000);

afterAll(async () => {
  await region?.close();
});

/**
 * Runs `work` on every connection of the home database's pool at once: each of the POOL
 * transactions waits until all have started, so none can reuse another's connection.
 */
async function onEveryConnection<T>(work: (tx: SqlTx) => Promise<T>, transaction = true): Promise<T[]> {
  let started = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  const run = async (tx: SqlTx): Promise<T> => {
    if (++started === POOL) release();
    await all;
    return work(tx);
  };
  return Promise.all(
    Array.from({ length: POOL }, () =>
      transaction ? databases.inDatabase(databases.home(), run) : databases.autocommit(databases.home(), run),
    ),
  );
}

const probe = (tx: SqlTx) => tx.query<Record<string, unknown>>(`SELECT * FROM prepared_probe WHERE id = $1`, [1]);

describe('prepared statements', () => {
  it('prepare a parameterised statement once on a connection, and leave one without parameters unnamed', async () => {
    const prepared = await databases.inDatabase(databases.home(), async (tx) => {
      await tx.query(`SELECT id FROM prepared_probe WHERE id = $1`, [1]);
      await tx.query(`SELECT id FROM prepared_probe WHERE id = $1`, [1]);
      await tx.query(`SELECT count(*) FROM prepared_probe`);
      return tx.query<{ statement: string }>(`SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%prepared_probe%'`);
    });
    expect(prepared.map((p) => p.statement)).toEqual([`SELECT id FROM prepared_probe WHERE id = $1`]);
  });

  it('survive a change of their result columns, in a transaction and outside one', async () => {
    expect(await onEveryConnection(probe)).toEqual(Array(POOL).fill([{ id: 1 }]));
    // Every connection has `probe` prepared with one column; now the table has two.
    await databases.autocommit(databases.home(), (tx) => tx.query(`ALTER TABLE prepared_probe ADD COLUMN note text DEFAULT 'n'`));
    expect(await onEveryConnection(probe)).toEqual(Array(POOL).fill([{ id: 1, note: 'n' }]));

    await databases.autocommit(databases.home(), (tx) => tx.query(`ALTER TABLE prepared_probe ADD COLUMN other int DEFAULT 7`));
    expect(await onEveryConnection(probe, false)).toEqual(Array(POOL).fill([{ id: 1, note: 'n', other: 7 }]));
  });

  it('fail as TypeORM failures do, with the driver error and its code', async () => {
    const failing = databases.inDatabase(databases.home(), (tx) => tx.query(`INSERT INTO prepared_probe VALUES ($1)`, [1]));
    await expect(failing).rejects.toMatchObject({ name: 'QueryFailedError', code: '23505', driverError: { code: '23505' } });
  });
});
