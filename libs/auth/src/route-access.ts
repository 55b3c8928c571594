import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { ApiScope } from '@stockmesh/contracts';

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
 * requirement, the scope (`x-required-scope`) and the 401 and 403 answers.
 */
export function RequireScope(scope: ApiScope): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, { kind: 'scope', scope } satisfies RouteAccess),
    ApiBearerAuth(API_KEY_SECURITY),
    ApiExtension('x-required-scope', scope),
    ApiUnauthorizedResponse({ description: 'No, a malformed, an unknown or a revoked API key (unauthenticated).' }),
    ApiForbiddenResponse({ description: `The API key does not have the ${scope} scope (insufficient-scope).` }),
  );
}

/** Open to anyone without a key: only for what load balancers and orchestrators poll. */
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_ACCESS, { kind: 'public' } satisfies RouteAccess);
}

/**
 * Region-to-region routes (the owner's hold API, a transfer's resolve): no client key; the guard
 * lets through only calls the internal listener verified as signed by a region of the cluster,
 * and the public listener answers them 404.
 */
export function InternalRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_ACCESS, { kind: 'internal' } satisfies RouteAccess);
}
