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
   * `claim` for many keys of one scope at once (a batch's rows), in two statements: the keys are
   * inserted in key order, so two batches sharing keys wait on each other instead of
   * deadlocking. One claim per request, in the order given. The keys must be distinct.
   */
  async claimMany(tx: SqlTx, requests: readonly IdempotentRequest[]): Promise<IdempotencyClaim[]> {
    if (requests.length === 0) return [];
    const inserted = await tx.query<{ scope: string; key: string }>(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, response)
       SELECT scope, key, fingerprint, 0, 'null'::json
         FROM unnest($1::text[], $2::text[], $3::text[]) AS r(scope, key, fingerprint)
        ORDER BY scope, key
       ON CONFLICT (scope, key) DO NOTHING
       RETURNING scope, key`,
      [requests.map((r) => r.scope), requests.map((r) => r.key), requests.map((r) => r.fingerprint)],
    );
    const fresh = new Set(inserted.map((r) => scopedKey(r)));
    const seen = requests.filter((r) => !fresh.has(scopedKey(r)));
    const stored = new Map<string, { fingerprint: string; status_code: number; response: unknown }>();
    if (seen.length > 0) {
      const rows = await tx.query<{ scope: string; key: string; fingerprint: string; status_code: number; response: unknown }>(
        `SELECT k.scope, k.key, k.fingerprint, k.status_code, k.response
           FROM idempotency_keys k JOIN unnest($1::text[], $2::text[]) AS r(scope, key) ON k.scope = r.scope AND k.key = r.key`,
        [seen.map((r) => r.scope), seen.map((r) => r.key)],
      );
      for (const row of rows) stored.set(scopedKey(row), row);
    }
    return requests.map((request): IdempotencyClaim => {
      if (fresh.has(scopedKey(request))) return { outcome: 'fresh' };
      const row = stored.get(scopedKey(request));
      if (!row) throw new Error(`idempotency key ${request.key} vanished while claimed`);
      if (row.fingerprint !== request.fingerprint) return { outcome: 'mismatch' };
      return { outcome: 'replay', status: row.status_code, body: row.response };
    });
  }

  /** `complete` for many fresh keys at once, in one statement. */
  async completeMany(tx: SqlTx, answers: readonly { request: IdempotentRequest; status: number; body: unknown }[]): Promise<void> {
    if (answers.length === 0) return;
    await tx.query(
      `UPDATE idempotency_keys k SET status_code = a.status, response = a.response::json
         FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[]) AS a(scope, key, status, response)
        WHERE k.scope = a.scope AND k.key = a.key`,
      [
        answers.map((a) => a.request.scope),
        answers.map((a) => a.request.key),
        answers.map((a) => a.status),
        answers.map((a) => JSON.stringify(a.body)),
      ],
    );
  }

  /**
   * Gives back keys claimed in this transaction for requests that were refused, which store
   * nothing (as a rolled-back single request): the client may retry them with the same key.
   */
  async unclaimMany(tx: SqlTx, requests: readonly IdempotentRequest[]): Promise<void> {
    if (requests.length === 0) return;
    await tx.query(
      `DELETE FROM idempotency_keys k USING unnest($1::text[], $2::text[]) AS r(scope, key) WHERE k.scope = r.scope AND k.key = r.key`,
      [requests.map((r) => r.scope), requests.map((r) => r.key)],
    );
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
