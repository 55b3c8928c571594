import { randomBytes } from 'node:crypto';

/**
 * A database prefix no other test run or suite uses, e.g. `smt_k3j9_stock`, so suites can run
 * against the shared local PostgreSQL and drop exactly what they made.
 */
export function throwawayPrefix(suite: string): string {
  const run = (process.env.STOCKMESH_TEST_RUN_ID ?? randomBytes(3).toString('hex')).toLowerCase().replace(/[^a-z0-9]/g, '');
  const unique = randomBytes(2).toString('hex');
  return `smt_${run}_${suite}_${unique}`.slice(0, 31);
}

/** The PostgreSQL server the tests use (`DATABASE_URL`, default the local one). */
export function testDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}
