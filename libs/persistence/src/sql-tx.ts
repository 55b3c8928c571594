import { createHash } from 'node:crypto';
import { QueryFailedError, type QueryRunner } from 'typeorm';

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

/** What of node-postgres's client a named statement needs. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Names for the region's parameterised statements, so that each connection has PostgreSQL parse
 * and plan a statement once and then only binds and executes it (node-postgres sends a named
 * statement's Parse only the first time on a connection). The repositories' statements are a
 * fixed set of texts; a text beyond `limit` distinct ones runs unnamed, so no statement built
 * from data can make a connection's server process hold prepared statements without bound.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>();

  constructor(private readonly limit = 1_000) {}

  /** The name of `text`'s statement, or `undefined` to run it unnamed. */
  nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= this.limit) return known;
    const name = `stockmesh_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    this.names.set(text, name);
    return name;
  }
}

/**
 * A `SqlTx` on `runner`; the caller runs the `afterCommit` callbacks it collects in `committed`.
 * With `statements`, a statement that has parameters runs as a named prepared statement.
 */
export function sqlTx(runner: QueryRunner, database: string, committed: (() => void)[] = [], statements?: PreparedStatements): SqlTx {
  return {
    database,
    async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const name = params.length > 0 ? statements?.nameOf(sql) : undefined;
      if (name === undefined) {
        const result = (await runner.query(sql, params as unknown[], true)) as { records: T[] };
        return result.records;
      }
      // TypeORM's query() cannot name a statement: the runner's own pooled client runs it (its
      // error listener stays on), and a failure is TypeORM's QueryFailedError as from query().
      const client = (await runner.connect()) as PgClient;
      try {
        return (await client.query({ name, text: sql, values: params as unknown[] })).rows as T[];
      } catch (error) {
        throw new QueryFailedError(sql, params as unknown[], error as Error);
      }
    },
    afterCommit(callback: () => void): void {
      committed.push(callback);
    },
  };
}

/** The SQLSTATE of a PostgreSQL error, as node-postgres or TypeORM (its `driverError`) carries it. */
export function sqlStateOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether `error` is PostgreSQL refusing a prepared statement whose result columns a schema
 * change altered (0A000 "cached plan must not change result type"), as after a migration made by
 * another instance of a rolling upgrade: see `forgetPreparedStatements`.
 */
export function isStalePreparedStatement(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  const message = String(e?.driverError?.message ?? e?.message ?? '');
  return code === '0A000' && message.includes('cached plan must not change result type');
}

/**
 * Drops every prepared statement of the runner's connection, on the server and in node-postgres's
 * memory of it, so the next use of each parses it again against the schema as it is now. Outside
 * a transaction (or after its ROLLBACK).
 */
export async function forgetPreparedStatements(runner: QueryRunner): Promise<void> {
  const client = (await runner.connect()) as { query(text: string): Promise<unknown>; connection?: { parsedStatements?: object } };
  await client.query('DEALLOCATE ALL');
  if (client.connection) client.connection.parsedStatements = {};
}
