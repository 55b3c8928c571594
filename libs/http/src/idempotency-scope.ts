/** What an idempotency scope is computed from: who asked, and for which resource. */
export interface ScopedCall {
  /** The caller (`principalIdOf`). */
  readonly principal: string;
  readonly method: string;
  /** The route's pattern as registered, e.g. `/v1/warehouses/:warehouseId/stock/:sku/adjustments`. */
  readonly route: string;
  /** The route's parameters as the router decoded them. */
  readonly params: Readonly<Record<string, string | undefined>>;
}

/**
 * The canonical resource of a call: its route pattern with each parameter, as decoded, encoded
 * again in one way (`encodeURIComponent`). So `/v1/warehouses/fra%2D1/...` and
 * `/v1/warehouses/fra-1/...`, two spellings of one resource, give the same string.
 */
export function canonicalResource(route: string, params: ScopedCall['params']): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
}

/**
 * The scope an Idempotency-Key is remembered in: the caller, the method and the canonical
 * resource. Two callers never share a scope (the principal is encoded, so no principal can forge
 * another's prefix), and one caller's key on one resource is one scope however the path is spelt.
 */
export function idempotencyScope(call: ScopedCall): string {
  return `${encodeURIComponent(call.principal)} ${call.method.toUpperCase()} ${canonicalResource(call.route, call.params)}`;
}
