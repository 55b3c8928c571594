import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { CodedException, HEADERS } from '@stockmesh/contracts';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { stringify } from 'safe-stable-stringify';
import { callerOf } from './region-trust/internal-call.js';
import type { CallerIdentity } from './region-trust/region-signature.js';

/** Printable ASCII, no spaces, 1-255 characters (a UUID is the usual choice). */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

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
 * scope is the method and path; the fingerprint hashes the body in canonical form (key order
 * does not matter), so the same key with another body is detected.
 */
export function idempotentRequestOf(request: FastifyRequest): IdempotentRequest | undefined {
  const key = header(request, HEADERS.idempotencyKey);
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new RequestHeaderException('idempotency-key-invalid', 'Idempotency-Key must be 1-255 printable ASCII characters without spaces');
  }
  const path = request.url.split('?')[0];
  const fingerprint = createHash('sha256')
    .update(stringify(request.body ?? null) ?? 'null')
    .digest('base64url');
  return { key, scope: `${request.method} ${path}`, fingerprint };
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

/** The ledger's name for a caller: its key's name and id. */
export function actorOf(caller: CallerIdentity | undefined): string {
  return caller ? `${caller.name} (key ${caller.keyId})`.slice(0, 128) : 'anonymous';
}

/**
 * `@Origin()`: who the request acts for (the authenticated caller, or the one a signed region call
 * names; `anonymous` without one) and the request id. Never a header the client chose: `X-Actor`
 * is not read.
 */
export const Origin = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestOrigin => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  return { actor: actorOf(callerOf(request)), requestId: String(request.id) };
});
