import { describe, expect, it } from '@jest/globals';
import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ROUTE_ACCESS, type RouteAccess } from '@stockmesh/auth';
import { loadAppConfig } from '@stockmesh/config';
import { RegionModule } from './region.module.js';

interface Route {
  readonly route: string;
  readonly access: RouteAccess | undefined;
}

/** Every controller of a module tree, as Nest would find them. */
function controllersOf(root: Type | DynamicModule, seen = new Set<unknown>()): Type[] {
  if (seen.has(root)) return [];
  seen.add(root);
  const dynamic = 'module' in root ? root : undefined;
  const type = dynamic ? dynamic.module : (root as Type);
  const own = [...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, type) as Type[] | undefined) ?? []), ...(dynamic?.controllers ?? [])];
  const imports = [
    ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, type) as (Type | DynamicModule)[] | undefined) ?? []),
    ...((dynamic?.imports ?? []) as (Type | DynamicModule)[]),
  ];
  return [...own, ...imports.flatMap((m) => controllersOf(m, seen))];
}

/** Every HTTP route of the region with the access it declares (method first, then class). */
function routes(): Route[] {
  const config = loadAppConfig({ STOCKMESH_REGION: 'us-east' });
  return controllersOf(RegionModule.forConfig(config)).flatMap((controller) => {
    const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
    return Object.getOwnPropertyNames(controller.prototype).flatMap((name) => {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function') return [];
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      // Kafka message handlers have no HTTP method.
      if (method === undefined || path === undefined) return [];
      const access = (Reflect.getMetadata(ROUTE_ACCESS, handler) ?? Reflect.getMetadata(ROUTE_ACCESS, controller)) as
        RouteAccess | undefined;
      return [{ route: `${RequestMethod[method]} /${base}/${path}`.replace(/\/+/g, '/').replace(/\/$/, ''), access }];
    });
  });
}

describe('the routes of a region', () => {
  const all = routes();

  it('finds the routes', () => {
    expect(all.length).toBeGreaterThan(20);
  });

  it('declares a scope on every /v1 route, and nothing is left without a declared access', () => {
    const undeclared = all.filter((r) => r.access === undefined).map((r) => r.route);
    expect(undeclared).toEqual([]);
    const v1WithoutScope = all.filter((r) => r.route.includes(' /v1/') && r.access?.kind !== 'scope').map((r) => r.route);
    expect(v1WithoutScope).toEqual([]);
  });

  it('leaves only the health checks open, and only /internal routes to region-to-region trust', () => {
    const open = all.filter((r) => r.access?.kind === 'public').map((r) => r.route);
    expect(open.sort()).toEqual(['GET /health/live', 'GET /health/ready']);
    const internal = all.filter((r) => r.access?.kind === 'internal').map((r) => r.route);
    expect(internal.every((r) => r.includes(' /internal/'))).toBe(true);
  });

  it('gives each operation the scope docs/security.md lists', () => {
    const scopes = Object.fromEntries(
      all.filter((r) => r.access?.kind === 'scope').map((r) => [r.route, (r.access as { scope: string }).scope]),
    );
    expect(scopes).toEqual({
      'GET /v1/warehouses': 'stock:read',
      'PUT /v1/warehouses/:warehouseId': 'catalog:write',
      'PUT /v1/channels/:channelId': 'catalog:write',
      'GET /v1/channels': 'stock:read',
      'GET /v1/channels/:channelId': 'stock:read',
      'PUT /v1/kits/:sku': 'catalog:write',
      'GET /v1/kits': 'stock:read',
      'GET /v1/kits/:sku': 'stock:read',
      'GET /v1/warehouses/:warehouseId/stock/:sku': 'stock:read',
      'PUT /v1/warehouses/:warehouseId/stock/:sku': 'stock:write',
      'PUT /v1/warehouses/:warehouseId/stock/:sku/incoming/:receiptId': 'stock:write',
      'DELETE /v1/warehouses/:warehouseId/stock/:sku/incoming/:receiptId': 'stock:write',
      'POST /v1/warehouses/:warehouseId/stock/:sku/incoming/:receiptId/receive': 'stock:write',
      'POST /v1/warehouses/:warehouseId/stock/:sku/adjustments': 'stock:write',
      'GET /v1/warehouses/:warehouseId/stock/:sku/movements': 'stock:read',
      'GET /v1/warehouses/:warehouseId/stock': 'stock:read',
      'POST /v1/stock/batch': 'stock:write',
      'GET /v1/availability/:sku': 'stock:read',
      'GET /v1/availability/:sku/regions': 'stock:read',
      'POST /v1/availability/query': 'stock:read',
      'GET /v1/cluster': 'stock:read',
      'GET /v1/cluster/activity': 'stock:read',
      'POST /v1/cluster/replicas/rebuild': 'admin',
      'GET /v1/cluster/shards': 'admin',
      'POST /v1/cluster/shards/moves': 'admin',
      'GET /v1/dead-letters': 'admin',
      'POST /v1/dead-letters/:id/replay': 'admin',
      'POST /v1/reservations': 'reservations:write',
      'GET /v1/reservations/:id': 'reservations:write',
      'POST /v1/reservations/:id/commit': 'reservations:write',
      'POST /v1/reservations/:id/extend': 'reservations:write',
      'POST /v1/reservations/:id/release': 'reservations:write',
      'POST /v1/transfers': 'stock:write',
      'GET /v1/transfers': 'stock:read',
      'POST /v1/transfers/:id/cancel': 'stock:write',
      'GET /v1/transfers/:id': 'stock:read',
      'POST /v1/api-keys': 'admin',
      'GET /v1/api-keys': 'admin',
      'DELETE /v1/api-keys/:id': 'admin',
    });
  });
});
