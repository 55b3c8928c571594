import type { QueryRunner } from 'typeorm';

/**
 * The one thing a repository needs from a transaction: run a statement, get its rows. Hides
 * TypeORM's `query()`, whose result shape differs between SELECT and UPDATE ... RETURNING.
 */
export interface SqlTx {
  query<T extends object>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export function sqlTx(runner: QueryRunner): SqlTx {
  return {
    async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const result = (await runner.query(sql, params as unknown[], true)) as { records: T[] };
      return result.records;
    },
  };
}
