import type { FastifyRequest } from 'fastify';
import { principalOf } from './request-context.js';

/** The principal of every request that no authentication vouched for: such callers share one scope. */
export const ANONYMOUS_PRINCIPAL = 'anonymous';

/**
 * The caller's identity for everything that belongs to a caller (the scope of an
 * Idempotency-Key): the id of the API key the auth guard verified (`setPrincipal`), never a
 * header the client writes; `anonymous` on a route no key guards.
 */
export function principalIdOf(request: FastifyRequest): string {
  return principalOf(request)?.id ?? ANONYMOUS_PRINCIPAL;
}
