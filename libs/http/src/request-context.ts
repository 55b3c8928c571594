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

/** The API key a request authenticated with; set by the auth guard before any handler runs. */
export interface RequestPrincipal {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  /** The sales channel the key is bound to: its availability and reservations are that channel's. */
  readonly channel?: string;
}

const PRINCIPAL = Symbol('stockmesh.principal');
type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: RequestPrincipal };

export function setPrincipal(request: FastifyRequest, principal: RequestPrincipal): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

export function principalOf(request: FastifyRequest): RequestPrincipal | undefined {
  return (request as WithPrincipal)[PRINCIPAL];
}

/** The ledger's actor of a key: its id and name, e.g. `key 3f9a0c1e2b4d5e6f (storefront)`. */
export function actorOf(principal: RequestPrincipal): string {
  return `key ${principal.id} (${principal.name})`;
}

/** The principal of a request behind the auth guard; none is a wiring bug, not a client's error. */
function verifiedPrincipal(ctx: ExecutionContext, decorator: string): { request: FastifyRequest; principal: RequestPrincipal } {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  const principal = principalOf(request);
  if (!principal) throw new Error(`${decorator} on ${request.method} ${request.url}, which the auth guard did not authenticate`);
  return { request, principal };
}

/**
 * `@Origin()`: the API key that made the request (as the ledger's actor) and the request id.
 * Never a header the client chose: the key is what the auth guard verified.
 */
export const Origin = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestOrigin => {
  const { request, principal } = verifiedPrincipal(ctx, '@Origin()');
  return { actor: actorOf(principal), requestId: String(request.id) };
});

/** `@Principal()`: the API key the auth guard verified for the request (what it owns is counted against it). */
export const Principal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): RequestPrincipal => verifiedPrincipal(ctx, '@Principal()').principal,
);
