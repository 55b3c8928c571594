import { describe, expect, it } from '@jest/globals';
import { RouteTable } from './route-table.js';

describe('RouteTable', () => {
  const routes = new RouteTable();
  routes.add('GET', '/v1/warehouses/:warehouseId/stock/:sku');
  routes.add(['HEAD'], '/v1/warehouses/:warehouseId/stock/:sku');
  routes.add('put', '/v1/warehouses/:warehouseId/stock/:sku');
  routes.add('POST', '/v1/warehouses/:warehouseId/stock/:sku/adjustments');
  routes.add('GET', '/docs/*');

  it('lists the methods of every route matching a path, sorted', () => {
    expect(routes.methodsAt('/v1/warehouses/fra-1/stock/SKU-1')).toEqual(['GET', 'HEAD', 'PUT']);
    expect(routes.methodsAt('/v1/warehouses/fra-1/stock/SKU-1/adjustments')).toEqual(['POST']);
    expect(routes.methodsAt('/docs/static/index.css')).toEqual(['GET']);
  });

  it('knows no method for a path no route matches', () => {
    expect(routes.methodsAt('/v1/warehouses/fra-1/stock')).toEqual([]);
    expect(routes.methodsAt('/v1/warehouses/fra-1/stock/SKU-1/')).toEqual([]);
    expect(routes.methodsAt('/v1/warehouses/a/b/stock/SKU-1')).toEqual([]);
  });

  it('takes the dots of a static segment literally', () => {
    const dotted = new RouteTable();
    dotted.add('GET', '/openapi.json');
    expect(dotted.methodsAt('/openapiXjson')).toEqual([]);
    expect(dotted.methodsAt('/openapi.json')).toEqual(['GET']);
  });
});
