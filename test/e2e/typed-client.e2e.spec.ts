import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCluster, TEST_ADMIN_KEY, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../../apps/cli/src/stockmesh-api.generated.js';

// A storefront's and a WMS's view of stockmesh: nothing but the client generated from the
// OpenAPI document (openapi-typescript types, openapi-fetch calls), against three region
// processes. If the document and the API drift apart, this fails to compile or to pass.
let t: TestCluster;
type Api = Client<paths>;
type Availability = components['schemas']['AvailabilityView'];

const client = (regionId: string, key: string): Api =>
  createClient<paths>({ baseUrl: t.url(regionId), headers: { authorization: `Bearer ${key}` } });

beforeAll(async () => {
  t = await startTestCluster('typed');
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('a client generated from the OpenAPI document', () => {
  it('registers a warehouse, counts stock, reserves and commits, and reads availability in another region', async () => {
    const admin = client('eu-west', TEST_ADMIN_KEY);

    // The operations team's part: a warehouse of eu-west, asked at us-east (forwarded to its owner).
    const registered = await client('us-east', TEST_ADMIN_KEY).PUT('/v1/warehouses/{warehouseId}', {
      params: { path: { warehouseId: 'typed-1' }, header: {} },
      body: { region: 'eu-west', name: 'Typed 1' },
    });
    expect(registered.response.status).toBe(201);
    expect(registered.data?.region).toBe('eu-west');

    // The WMS's part: a cycle count at the owner.
    const counted = await admin.PUT('/v1/warehouses/{warehouseId}/stock/{sku}', {
      params: { path: { warehouseId: 'typed-1', sku: 'SKU-TYPED' }, header: {} },
      body: { onHand: 10 },
    });
    expect(counted.response.status).toBe(200);
    expect(counted.data).toMatchObject({ onHand: 10, reserved: 0, available: 10 });

    // A storefront key: read stock, hold carts, nothing else.
    const made = await admin.POST('/v1/api-keys', { body: { name: 'typed-storefront', scopes: ['stock:read', 'reservations:write'] } });
    expect(made.response.status).toBe(201);
    const storefront = client('eu-west', made.data?.key ?? '');

    // Typed refusals: the problem details of the document.
    const tooMany = await storefront.POST('/v1/reservations', {
      params: { header: { 'Idempotency-Key': randomUUID() } },
      body: { lines: [{ sku: 'SKU-TYPED', quantity: 11 }] },
    });
    expect(tooMany.response.status).toBe(409);
    expect(tooMany.error?.code).toBe('insufficient-stock');
    const notAllowed = await storefront.PUT('/v1/warehouses/{warehouseId}/stock/{sku}', {
      params: { path: { warehouseId: 'typed-1', sku: 'SKU-TYPED' }, header: {} },
      body: { onHand: 0 },
    });
    expect([notAllowed.response.status, notAllowed.error?.code]).toEqual([403, 'insufficient-scope']);

    const held = await storefront.POST('/v1/reservations', {
      params: { header: { 'Idempotency-Key': randomUUID() } },
      body: { lines: [{ sku: 'SKU-TYPED', quantity: 3 }], reference: 'order-typed' },
    });
    expect(held.response.status).toBe(201);
    const reservationId = held.data?.id ?? '';
    expect(held.data?.status).toBe('held');
    expect(held.data?.allocations).toEqual([expect.objectContaining({ warehouseId: 'typed-1', sku: 'SKU-TYPED', quantity: 3 })]);

    const committed = await storefront.POST('/v1/reservations/{id}/commit', { params: { path: { id: reservationId } } });
    expect(committed.response.status).toBe(200);
    expect(committed.data?.status).toBe('committed');

    // Another region, with the same key once it has replicated there, sees the sale.
    const elsewhere = client('ap-south', made.data?.key ?? '');
    let last: Availability | undefined;
    await waitFor(
      async () => {
        last = (await elsewhere.GET('/v1/availability/{sku}', { params: { path: { sku: 'SKU-TYPED' } } })).data;
        return last?.onHand === 7 && last.reserved === 0 && last.available === 7 ? true : undefined;
      },
      { what: 'ap-south to see the committed sale', describe: async () => JSON.stringify(last) },
    );
    expect(last?.warehouses).toEqual([expect.objectContaining({ warehouseId: 'typed-1', region: 'eu-west', onHand: 7, available: 7 })]);
  }, 120_000);
});
