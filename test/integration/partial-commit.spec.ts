import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, signedCall, seedReplicaRow, StandInRegion, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Partial commits (`POST /v1/reservations/{id}/commit` with `lines`) in one region (us-east) on
// the real PostgreSQL, with a stand-in eu-west owner that records what it is asked to commit.

const commits: { path: string; body: Record<string, unknown> }[] = [];
const owner = new StandInRegion((method, path, body) => {
  if (path.endsWith('/commit')) commits.push({ path, body: body as Record<string, unknown> });
  return { status: method === 'PUT' ? 201 : 200, body: {} };
});
let region: TestRegion;

interface Allocation {
  sku: string;
  warehouseId: string;
  quantity: number;
  state: string;
  committedQuantity?: number;
}
interface Reservation {
  id: string;
  status: string;
  allocations: Allocation[];
  code?: string;
}

const reserve = async (lines: unknown[]): Promise<Reservation> => {
  const made = await call<Reservation>(region, 'POST', '/v1/reservations', {
    body: { lines },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(made.status).toBe(201);
  return made.body;
};
const commit = (id: string, body?: unknown) => call<Reservation>(region, 'POST', `/v1/reservations/${id}/commit`, { body });
const row = async (warehouse: string, sku: string): Promise<{ onHand: number; reserved: number }> =>
  (await call<{ onHand: number; reserved: number }>(region, 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`)).body;
const setStock = async (warehouse: string, sku: string, onHand: number): Promise<void> => {
  expect((await call(region, 'PUT', `/v1/warehouses/${warehouse}/stock/${sku}`, { body: { onHand } })).status).toBe(200);
};

beforeAll(async () => {
  region = await startTestRegion('partialcommit', await owner.listen());
  for (const w of ['pc-1', 'pc-2']) await call(region, 'PUT', `/v1/warehouses/${w}`, { body: { region: 'us-east', name: w } });
  // eu-west's stock, as this region's replica shows it.
  await seedReplicaRow(region, { warehouseId: 'pc-fra-1', sku: 'SKU-PC-FAR', region: 'eu-west', onHand: 100 });
}, 60_000);

afterAll(async () => {
  await region?.close();
  await owner.close();
});

describe('a partial commit', () => {
  it('takes only the units it names off on-hand and releases the rest, once', async () => {
    await setStock('pc-1', 'SKU-PC', 10);
    const made = await reserve([{ sku: 'SKU-PC', quantity: 4 }]);
    const committed = await commit(made.id, { lines: [{ sku: 'SKU-PC', quantity: 3 }] });
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({
      status: 'committed',
      allocations: [{ sku: 'SKU-PC', warehouseId: 'pc-1', quantity: 4, state: 'committed', committedQuantity: 3 }],
    });
    expect(await row('pc-1', 'SKU-PC')).toMatchObject({ onHand: 7, reserved: 0 });
    const ledger = await call<{ items: { kind: string; delta: number }[] }>(region, 'GET', `/v1/warehouses/pc-1/stock/SKU-PC/movements`);
    expect(ledger.body.items.slice(0, 2).map((m) => [m.kind, m.delta])).toEqual([
      ['release', 0],
      ['commit', -3],
    ]);

    // The first commit decided: asking again, with or without lines, changes nothing.
    expect((await commit(made.id)).body).toMatchObject({ status: 'committed', allocations: [{ committedQuantity: 3 }] });
    expect((await commit(made.id, { lines: [{ sku: 'SKU-PC', quantity: 1 }] })).body).toMatchObject({ status: 'committed' });
    expect(await row('pc-1', 'SKU-PC')).toMatchObject({ onHand: 7, reserved: 0 });
  });

  it('keeps to the warehouse a line names, releasing a whole allocation it does not use', async () => {
    await setStock('pc-1', 'SKU-PC-SPLIT', 2);
    await setStock('pc-2', 'SKU-PC-SPLIT', 3);
    const made = await reserve([{ sku: 'SKU-PC-SPLIT', quantity: 5 }]);
    expect(made.allocations).toHaveLength(2);
    const committed = await commit(made.id, { lines: [{ sku: 'SKU-PC-SPLIT', warehouseId: 'pc-2', quantity: 1 }] });
    expect(committed.status).toBe(200);
    expect(await row('pc-1', 'SKU-PC-SPLIT')).toMatchObject({ onHand: 2, reserved: 0 });
    expect(await row('pc-2', 'SKU-PC-SPLIT')).toMatchObject({ onHand: 2, reserved: 0 });
    const byWarehouse = Object.fromEntries(committed.body.allocations.map((a) => [a.warehouseId, a]));
    expect(byWarehouse['pc-1']).toMatchObject({ state: 'released' });
    expect(byWarehouse['pc-2']).toMatchObject({ state: 'committed', committedQuantity: 1 });
  });

  it('carries the units to another region’s owner, and releases the local line it does not name', async () => {
    await setStock('pc-1', 'SKU-PC-NEAR', 5);
    const made = await reserve([
      { sku: 'SKU-PC-NEAR', quantity: 2 },
      { sku: 'SKU-PC-FAR', quantity: 5 },
    ]);
    commits.length = 0;
    const committed = await commit(made.id, { lines: [{ sku: 'SKU-PC-FAR', quantity: 2 }] });
    expect(committed.status).toBe(200);
    expect(commits).toEqual([
      {
        path: expect.stringContaining(`/internal/v1/holds/${made.id}.`),
        body: expect.objectContaining({ sku: 'SKU-PC-FAR', quantity: 2 }),
      },
    ]);
    expect(await row('pc-1', 'SKU-PC-NEAR')).toMatchObject({ onHand: 5, reserved: 0 });
  });

  it('refuses more units than are held, a SKU it does not hold, or nothing, and then leaves the reservation held', async () => {
    await setStock('pc-1', 'SKU-PC-BAD', 5);
    const made = await reserve([{ sku: 'SKU-PC-BAD', quantity: 2 }]);
    for (const lines of [
      [{ sku: 'SKU-PC-BAD', quantity: 3 }],
      [{ sku: 'SKU-PC-OTHER', quantity: 1 }],
      [{ sku: 'SKU-PC-BAD', warehouseId: 'pc-2', quantity: 1 }],
    ]) {
      const refused = await commit(made.id, { lines });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'reservation-commit-invalid' });
    }
    for (const body of [
      { lines: [] },
      { lines: [{ sku: 'SKU-PC-BAD', quantity: 0 }] },
      { lines: 'all' },
      { lines: [{ sku: 'SKU-PC-BAD', quantity: 1 }], extra: 1 },
    ]) {
      const refused = await commit(made.id, body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'validation-failed' });
    }
    expect((await call<Reservation>(region, 'GET', `/v1/reservations/${made.id}`)).body.status).toBe('held');
    expect(await row('pc-1', 'SKU-PC-BAD')).toMatchObject({ onHand: 5, reserved: 2 });
    expect((await commit(made.id)).body).toMatchObject({ status: 'committed' });
  });

  it('is refused by the owner when it names more units than the hold has, which stays held', async () => {
    await setStock('pc-1', 'SKU-PC-OWN', 5);
    const reservationId = `eu-west.${randomUUID()}`;
    const target = { reservationId, warehouseId: 'pc-1', sku: 'SKU-PC-OWN' };
    expect((await signedCall(region, 'PUT', `/internal/v1/holds/${reservationId}.1`, { body: { ...target, quantity: 2 } })).status).toBe(
      201,
    );
    const tooMany = await signedCall(region, 'POST', `/internal/v1/holds/${reservationId}.1/commit`, { body: { ...target, quantity: 3 } });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body).toMatchObject({ code: 'hold-conflict' });
    expect(await row('pc-1', 'SKU-PC-OWN')).toMatchObject({ onHand: 5, reserved: 2 });
    const partial = await signedCall(region, 'POST', `/internal/v1/holds/${reservationId}.1/commit`, { body: { ...target, quantity: 1 } });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ status: 'committed', committedQuantity: 1, stock: { onHand: 4, reserved: 0 } });
  });
});
