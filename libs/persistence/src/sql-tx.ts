import type { QueryRunner } from 'typeorm';

/**
 * The one thing a repository needs from a transaction: run a statement, get its rows. Hides
 * TypeORM's `query()`, whose result shape differs between SELECT and UPDATE ... RETURNING.
 */
export interface SqlTx {
  /** The name of the database the transaction runs on. */
  readonly database: string;
  query<T extends object>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Runs `callback` once the transaction has committed (never when it rolls back), e.g. to wake
   * a reader of what it wrote; it must not throw. Outside a transaction, once the work is done.
   */
  afterCommit(callback: () => void): void;
}

/** A `SqlTx` on `runner`; the caller runs the `afterCommit` callbacks it collects in `committed`. */
export function sqlTx(runner: QueryRunner, database: string, committed: (() => void)[] = []): SqlTx {
  return {
    database,
    async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const result = (await runner.query(sql, params as unknown[], true)) as { records: T[] };
      return result.records;
    },
    afterCommit(callback: () => void): void {
      committed.push(callback);
    },
  };
}
