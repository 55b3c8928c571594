import { Injectable } from '@nestjs/common';
import { CodedException } from '@stockmesh/contracts';
import type { SqlTx } from './sql-tx.js';

export class IdempotencyException extends CodedException<'idempotency-key-reused'> {
  constructor(key: string) {
    super('idempotency-key-reused', `Idempotency-Key ${key} was already used with a different request body`);
  }
}

/** The answer of an idempotent write: the first one, replayed when the key was seen before. */
export interface IdempotentAnswer<T> {
  readonly status: number;
  readonly body: T;
  readonly replayed: boolean;
}

/** What identifies one idempotent request: the key the client chose, where it was used, and what it said. */
export interface IdempotentRequest {
  /** The `Idempotency-Key` header. */
  readonly key: string;
  /**
   * Whose key it is and where it was used: the caller, the method and the canonical resource,
   * e.g. `anonymous POST /v1/warehouses/w1/stock/s1/adjustments` (see `idempotencyScope` in
   * libs/http). Keys of different scopes never meet.
   */
  readonly scope: string;
  /** A hash of the canonical request body: the same key with another body is refused. */
  readonly fingerprint: string;
}

/**
 * The key and its scope as one string, for tables that remember a key in one column (a
 * reservation's `idempotency_key`): the scope has no space after its last one, nor has a key, so
 * two different (scope, key) pairs never give the same string.
 */
export function scopedKey(request: Pick<IdempotentRequest, 'scope' | 'key'>): string {
  return `${request.scope} ${request.key}`;
}

export type IdempotencyClaim =
  | { readonly outcome: 'fresh' }
  | { readonly outcome: 'replay'; readonly status: number; readonly body: unknown }
  | { readonly outcome: 'mismatch' };

/**
 * Idempotency keys, stored in the same database and transaction as the change they guard.
 *
 * `claim` inserts the key first: a concurrent request with the same key blocks on the primary key
 * until the first transaction ends, then either sees its committed answer (replay) or, if it
 * rolled back, claims the key itself. So exactly one of N parallel requests changes anything.
 * Refused requests (4xx) roll back and store nothing: the client may retry them with the same key.
 */
@Injectable()
export class IdempotencyRepository {
  async claim(tx: SqlTx, request: IdempotentRequest): Promise<IdempotencyClaim> {
    const inserted = await tx.query(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, response)
       VALUES ($1, $2, $3, 0, 'null'::json)
       ON CONFLICT (scope, key) DO NOTHING
       RETURNING 1 AS claimed`,
      [request.scope, request.key, request.fingerprint],
    );
    if (inserted.length === 1) return { outcome: 'fresh' };
    const [stored] = await tx.query<{ fingerprint: string; status_code: number; response: unknown }>(
      `SELECT fingerprint, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [request.scope, request.key],
    );
    if (!stored) throw new Error(`idempotency key ${request.key} vanished while claimed`);
    if (stored.fingerprint !== request.fingerprint) return { outcome: 'mismatch' };
    return { outcome: 'replay', status: stored.status_code, body: stored.response };
  }

  /**
   * Runs `work` once per key, inside `tx`: a repeated request gets the stored answer and `work`
   * does not run; the same key with another body throws `IdempotencyException`. Without a key
   * `work` simply runs.
   */
  async once<T>(
    tx: SqlTx,
    request: IdempotentRequest | undefined,
    work: () => Promise<{ status: number; body: T }>,
  ): Promise<IdempotentAnswer<T>> {
    if (request) {
      const claim = await this.claim(tx, request);
      if (claim.outcome === 'mismatch') throw new IdempotencyException(request.key);
      if (claim.outcome === 'replay') return { status: claim.status, body: claim.body as T, replayed: true };
    }
    const { status, body } = await work();
    if (request) await this.complete(tx, request, status, body);
    return { status, body, replayed: false };
  }

  /**
   * The fingerprint stored under the request's scope and key in this database, if any. For
   * requests whose keys spread over several databases (by the shard of what they change): a key
   * found in another database with another fingerprint was used for another request.
   */
  async fingerprintOf(tx: SqlTx, request: IdempotentRequest): Promise<string | undefined> {
    const [row] = await tx.query<{ fingerprint: string }>(`SELECT fingerprint FROM idempotency_keys WHERE scope = $1 AND key = $2`, [
      request.scope,
      request.key,
    ]);
    return row?.fingerprint;
  }

  /**
   * Deletes up to `limit` keys first used before `cutoff`, oldest first (through
   * `idempotency_keys_by_age`), skipping keys a request holds right now. A request that repeats a
   * deleted key is new again: that is what the retention promises.
   */
  async pruneExpired(tx: SqlTx, cutoff: Date, limit: number): Promise<number> {
    const rows = await tx.query(
      // = ANY(ARRAY(...)) makes the planner fetch each victim by its address (a TID scan) instead
      // of joining the batch with the whole table; the rows are locked, so the address holds.
      `DELETE FROM idempotency_keys
        WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))
       RETURNING 1 AS deleted`,
      [cutoff, limit],
    );
    return rows.length;
  }

  /** Records the answer of a fresh request, in the transaction that made the change. */
  async complete(tx: SqlTx, request: IdempotentRequest, status: number, body: unknown): Promise<void> {
    await tx.query(`UPDATE idempotency_keys SET status_code = $3, response = $4::json WHERE scope = $1 AND key = $2`, [
      request.scope,
      request.key,
      status,
      JSON.stringify(body),
    ]);
  }
}
