import { HEADERS } from '@stockmesh/contracts';
import type { IdempotentAnswer } from '@stockmesh/persistence';

/**
 * The HTTP answer of an idempotent write: its status (which may differ per call, e.g. 201 then
 * 200; a stored refusal is a problem details body) and `Idempotent-Replayed: true` when it repeats a stored answer. Returned as a web
 * `Response`, which Nest sends with exactly this status.
 */
export function idempotentAnswer<T>(answer: IdempotentAnswer<T>): Response {
  const type = answer.status >= 400 ? 'application/problem+json' : 'application/json';
  const headers: Record<string, string> = { 'content-type': `${type}; charset=utf-8` };
  if (answer.replayed) headers[HEADERS.idempotentReplayed] = 'true';
  return new Response(JSON.stringify(answer.body), { status: answer.status, headers });
}
