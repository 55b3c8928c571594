import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiOperation } from '@nestjs/swagger';
import { PROBLEM_TYPES, type ApiScope, type ProblemCode } from '@stockmesh/contracts';
import { ApiProblemResponse, ApiProblems } from '@stockmesh/http';

/** The name of the bearer security scheme in the OpenAPI document. */
export const API_KEY_SECURITY = 'api-key';

/** Who may call a route. A route with none is refused by the guard: access is denied by default. */
export type RouteAccess =
  /** A valid API key with this scope (or `admin`). */
  | { readonly kind: 'scope'; readonly scope: ApiScope }
  /** Anyone, without a key (health checks). */
  | { readonly kind: 'public' }
  /** Region-to-region routes the guard leaves alone (see `InternalRoute`). */
  | { readonly kind: 'internal' };

export const ROUTE_ACCESS = Symbol('stockmesh.route-access');

/**
 * The scope an operation needs. Also documents it in the OpenAPI document: the bearer security
 * requirement, the scope (`x-required-scope`) and the 401, 403 and 429 answers.
 */
export function RequireScope(scope: ApiScope, forbidden: readonly ProblemCode[] = []): MethodDecorator & ClassDecorator {
  const also = forbidden.map((code) => ` \`${code}\`: ${PROBLEM_TYPES[code].title}.`).join('');
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, { kind: 'scope', scope } satisfies RouteAccess),
    ApiBearerAuth(API_KEY_SECURITY),
    ApiExtension('x-required-scope', scope),
    ApiProblemResponse(401, '`unauthenticated`: no, a malformed, an unknown or a revoked API key (member `reason`).', ['unauthenticated']),
    // One 403 response, so the operation's other 403 codes (`forbidden`) are listed with it.
    ApiProblemResponse(403, `\`insufficient-scope\`: the API key has neither the \`${scope}\` scope nor \`admin\`.${also}`, [
      'insufficient-scope',
      ...forbidden,
    ]),
    // Rate limits and quotas are per key; their codes are documented in docs/errors.md.
    ApiProblemResponse(429, 'Too many requests from this key, or one of its quotas is used up: retry after `Retry-After` seconds.', []),
  );
}

/** What an operation's entry in the OpenAPI document says besides its access. */
export interface OperationDoc {
  /** Stable and camelCase: generated clients name their methods after it. */
  readonly operationId: string;
  /** A few words, shown in the operation list. */
  readonly summary: string;
  readonly description?: string;
  /** The problem codes it may answer besides 401, 403 and 429 (see `ApiProblems`). */
  readonly problems?: readonly ProblemCode[];
}

/**
 * An operation that needs an API key with `scope`: enforced by the guard (`RequireScope`) and
 * documented from the same value (security requirement, `x-required-scope`, the description),
 * with its summary, operationId and problem answers.
 */
export function ScopedOperation(scope: ApiScope, doc: OperationDoc): MethodDecorator {
  const needs = scope === 'admin' ? 'Needs the `admin` scope.' : `Needs the \`${scope}\` scope (or \`admin\`).`;
  const problems = doc.problems ?? [];
  const forbidden = problems.filter((code) => PROBLEM_TYPES[code].status === 403);
  return applyDecorators(
    RequireScope(scope, forbidden),
    ApiOperation({
      operationId: doc.operationId,
      summary: doc.summary,
      description: doc.description ? `${doc.description}\n\n${needs}` : needs,
    }),
    ApiProblems(...problems.filter((code) => PROBLEM_TYPES[code].status !== 403)),
  );
}

/** Open to anyone without a key: only for what load balancers and orchestrators poll. */
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_ACCESS, { kind: 'public' } satisfies RouteAccess);
}

/** A `PublicRoute` operation, documented as needing no key (`security: []`). */
export function PublicOperation(doc: OperationDoc): MethodDecorator {
  return applyDecorators(
    PublicRoute(),
    ApiOperation({
      operationId: doc.operationId,
      summary: doc.summary,
      security: [],
      ...(doc.description ? { description: doc.description } : {}),
    }),
    ApiProblems(...(doc.problems ?? [])),
  );
}

/**
 * Region-to-region routes (the owner's hold API, a transfer's resolve): no client key; the guard
 * lets through only calls the internal listener verified as signed by a region of the cluster,
 * and the public listener answers them 404.
 */
export function InternalRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_ACCESS, { kind: 'internal' } satisfies RouteAccess);
}
