import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { CodedException, HEADERS } from '@stockmesh/contracts';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { stringify } from 'safe-stable-stringify';
import { idempotencyScope } from './idempotency-scope.js';
import { principalIdOf } from './principal.js';

/** Printable ASCII, no spaces, 1-255 characters (a UUID is the usual choice). */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Who made a change: 1-128 printable characters. */
const ACTOR_PATTERN = /^[\x20-\x7e]{1,128}$/;

export class RequestHeaderException extends CodedException<'idempotency-key-invalid' | 'validation-failed'> {
  constructor(code: 'idempotency-key-invalid' | 'validation-failed', message: string) {
    super(code, message);
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request's idempotency identity, or `undefined` without an `Idempotency-Key` header. The
 * scope is the caller, the method and the canonical resource (`idempotencyScope`); the
 * fingerprint hashes the body in canonical form (key order does not matter), so the same key with
 * another body is detected.
 */
export function idempotentRequestOf(request: FastifyRequest): IdempotentRequest | undefined {
  const key = header(request, HEADERS.idempotencyKey);
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new RequestHeaderException('idempotency-key-invalid', 'Idempotency-Key must be 1-255 printable ASCII characters without spaces');
  }
  const fingerprint = createHash('sha256')
    .update(stringify(request.body ?? null) ?? 'null')
    .digest('base64url');
  const scope = idempotencyScope({
    principal: principalIdOf(request),
    method: request.method,
    // Every route that takes a key is a registered route; the raw path is only a fallback.
    route: request.routeOptions.url ?? request.url.split('?')[0],
    params: (request.params ?? {}) as Record<string, string | undefined>,
  });
  return { key, scope, fingerprint };
}

/** `@Idempotency()`: the `IdempotentRequest` of the call, or `undefined`. */
export const Idempotency = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  idempotentRequestOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);

/** Who and what asked for a change, for the ledger. */
export interface RequestOrigin {
  readonly actor: string;
  readonly requestId: string;
}

/** `@Origin()`: the `X-Actor` header (default `anonymous`) and the request id. */
export const Origin = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestOrigin => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  const actor = header(request, HEADERS.actor) ?? 'anonymous';
  if (!ACTOR_PATTERN.test(actor)) throw new RequestHeaderException('validation-failed', 'X-Actor must be 1-128 printable ASCII characters');
  return { actor, requestId: String(request.id) };
});
