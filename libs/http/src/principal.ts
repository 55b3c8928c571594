import type { FastifyRequest } from 'fastify';

/** The principal of every request that no authentication vouched for: such callers share one scope. */
export const ANONYMOUS_PRINCIPAL = 'anonymous';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is calling, as authentication established it (e.g. the id of an API key), never taken
     * from a header the client writes. Set by the authentication guard before any handler runs;
     * read it through `principalIdOf`.
     */
    principalId?: string;
  }
}

/**
 * The caller's identity for everything that belongs to a caller (the scope of an
 * Idempotency-Key): the principal set by authentication, or `anonymous`.
 */
export function principalIdOf(request: FastifyRequest): string {
  return request.principalId ?? ANONYMOUS_PRINCIPAL;
}
