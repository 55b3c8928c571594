import { describe, expect, it } from '@jest/globals';
import type { FastifyRequest } from 'fastify';
import { canonicalResource, idempotencyScope } from './idempotency-scope.js';
import { idempotentRequestOf, setPrincipal } from './request-context.js';

const ROUTE = '/v1/warehouses/:warehouseId/stock/:sku/adjustments';

/** What Fastify gives a handler: the registered route, the decoded parameters, the raw URL. */
function requestOf(url: string, params: Record<string, string>, principalId?: string): FastifyRequest {
  const request = {
    method: 'POST',
    url,
    routeOptions: { url: ROUTE },
    params,
    headers: { 'idempotency-key': 'k-1' },
    body: { delta: 1, reason: 'received' },
  } as unknown as FastifyRequest;
  if (principalId !== undefined) setPrincipal(request, { id: principalId, name: principalId, scopes: [] });
  return request;
}

describe('idempotency scope', () => {
  it('is one canonical resource for every spelling of one path', () => {
    expect(canonicalResource(ROUTE, { warehouseId: 'fra-1', sku: 'SKU 1/x' })).toBe('/v1/warehouses/fra-1/stock/SKU%201%2Fx/adjustments');
    const plain = idempotentRequestOf(requestOf('/v1/warehouses/fra-1/stock/SKU/adjustments', { warehouseId: 'fra-1', sku: 'SKU' }));
    const encoded = idempotentRequestOf(requestOf('/v1/warehouses/fra%2D1/stock/%53KU/adjustments', { warehouseId: 'fra-1', sku: 'SKU' }));
    expect(encoded?.scope).toBe(plain?.scope);
    expect(plain?.scope).toBe('anonymous POST /v1/warehouses/fra-1/stock/SKU/adjustments');
  });

  it('separates callers: the same key from two principals is two scopes', () => {
    const params = { warehouseId: 'fra-1', sku: 'SKU' };
    const url = '/v1/warehouses/fra-1/stock/SKU/adjustments';
    const alice = idempotentRequestOf(requestOf(url, params, 'key-alice'));
    const bob = idempotentRequestOf(requestOf(url, params, 'key-bob'));
    expect(alice?.key).toBe(bob?.key);
    expect(alice?.scope).not.toBe(bob?.scope);
    expect(alice?.scope).not.toBe(idempotentRequestOf(requestOf(url, params))?.scope);
  });

  it('cannot be forged by a principal that contains what follows it', () => {
    const call = { method: 'POST', route: '/v1/x/:id', params: { id: 'a' } };
    expect(idempotencyScope({ ...call, principal: 'alice POST /v1/x/a' })).not.toBe(idempotencyScope({ ...call, principal: 'alice' }));
    expect(idempotencyScope({ ...call, principal: 'alice' })).toBe('alice POST /v1/x/a');
  });
});
