import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, divergence, registerWarehouses, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Incoming stock across three regions running as real processes, replicating through the real
// broker: receipts announced, received and cancelled through any region land at the warehouse's
// region, replicate with the row to every region, and availability everywhere answers what can
// be promised by which day. Reservations that allow backorders hold incoming units, never more
// than the receipts expect however many race, and receipts fill them oldest first. Refusals are
// problem+json and change nothing.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const OWNER: Record<string, string> = { 'nyc-1': 'us-east', 'fra-1': 'eu-west', 'bom-1': 'ap-south' };
const at = (id: string): { id: string; url: string } => ({ id, url: t.url(id) });
const regions = (): { id: string; url: string }[] => REGIONS.map(at);
const SKU = 'IN-1';

interface Receipt {
  receiptId: string;
  quantity: number;
  expectedAt: string;
}
interface StockChange {
  region: string;
  onHand: number;
  incoming: Receipt[];
  version: number;
  servedBy: string;
  movement: { kind: string; delta: number; reason: string };
  code?: string;
}
interface Reservation {
  id: string;
  status: string;
  allocations: { warehouseId: string; quantity: number; backordered?: number }[];
  code?: string;
}
interface Row {
  onHand: number;
  reserved: number;
  available: number;
  backordered: number;
  incoming: Receipt[];
  code?: string;
}
interface Availability {
  available: number;
  backordered: number;
  incoming: { expectedAt: string; quantity: number; promisable: number }[];
  warehouses: { warehouseId: string; incoming: Receipt[] }[];
}

const incomingPath = (warehouseId: string, receiptId: string, sku = SKU): string =>
  `/v1/warehouses/${warehouseId}/stock/${sku}/incoming/${receiptId}`;

/** Waits until no region's view of the SKUs differs from the owners' rows (receipts included). */
async function converged(skus: readonly string[], what: string): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => {
      last = await divergence(regions(), skus);
      return last.length === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `${what} (still differing: ${last.slice(0, 5).join('; ')})` },
  );
}

beforeAll(async () => {
  t = await startTestCluster('incoming', { STOCKMESH_HEARTBEAT_MS: '500' });
  await registerWarehouses(t, OWNER);
  for (const [warehouseId, onHand] of [
    ['fra-1', 5],
    ['bom-1', 2],
  ] as const) {
    expect((await call(at(OWNER[warehouseId]), 'PUT', `/v1/warehouses/${warehouseId}/stock/${SKU}`, { body: { onHand } })).status).toBe(
      200,
    );
  }
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('incoming stock', () => {
  it('is announced through any region at the warehouse’s region, and every region promises it by day', async () => {
    // Through us-east, forwarded to eu-west, which owns fra-1.
    const announced = await call<StockChange>(at('us-east'), 'PUT', incomingPath('fra-1', 'po-1'), {
      body: { quantity: 10, expectedAt: '2026-12-24' },
    });
    expect(announced.status).toBe(200);
    expect(announced.body).toMatchObject({
      region: 'eu-west',
      servedBy: 'eu-west',
      onHand: 5,
      incoming: [{ receiptId: 'po-1', quantity: 10, expectedAt: '2026-12-24' }],
      movement: { kind: 'set', delta: 0, reason: 'incoming' },
    });
    const other = await call<StockChange>(at('eu-west'), 'PUT', incomingPath('bom-1', 'asn-7'), {
      body: { quantity: 4, expectedAt: '2026-12-20' },
    });
    expect(other.status).toBe(200);
    expect(other.body.region).toBe('ap-south');
    // Announced twice with the same body: the receipt stays one receipt.
    const again = await call<StockChange>(at('ap-south'), 'PUT', incomingPath('bom-1', 'asn-7'), {
      body: { quantity: 4, expectedAt: '2026-12-20' },
    });
    expect(again.body.incoming).toEqual([{ receiptId: 'asn-7', quantity: 4, expectedAt: '2026-12-20' }]);

    await converged([SKU], 'every region to hold both rows with their receipts');
    for (const region of REGIONS) {
      const view = await call<Availability>(at(region), 'GET', `/v1/availability/${SKU}`);
      expect({ region, available: view.body.available, incoming: view.body.incoming }).toEqual({
        region,
        available: 7,
        incoming: [
          { expectedAt: '2026-12-20', quantity: 4, promisable: 11 },
          { expectedAt: '2026-12-24', quantity: 10, promisable: 21 },
        ],
      });
      expect(view.body.warehouses.find((w) => w.warehouseId === 'fra-1')?.incoming).toEqual([
        { receiptId: 'po-1', quantity: 10, expectedAt: '2026-12-24' },
      ]);
    }
  }, 90_000);

  it('is received through any region: units go on hand once per Idempotency-Key, and the receipt closes', async () => {
    const key = randomUUID();
    const receive = (): ReturnType<typeof call<StockChange>> =>
      call<StockChange>(at('ap-south'), 'POST', `${incomingPath('fra-1', 'po-1')}/receive`, {
        body: { quantity: 6 },
        headers: { 'idempotency-key': key },
      });
    const first = await receive();
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      onHand: 11,
      incoming: [{ receiptId: 'po-1', quantity: 4, expectedAt: '2026-12-24' }],
      movement: { kind: 'adjustment', delta: 6, reason: 'received' },
    });
    // A retry of the same delivery (a lost answer): the first answer again, nothing received twice.
    const retried = await receive();
    expect(retried.status).toBe(201);
    expect(retried.body).toEqual(first.body);
    // The rest arrives short: 3 of the 4, and the warehouse closes the receipt.
    const rest = await call<StockChange>(at('us-east'), 'POST', `${incomingPath('fra-1', 'po-1')}/receive`, {
      body: { quantity: 3, close: true },
    });
    expect(rest.status).toBe(201);
    expect(rest.body).toMatchObject({ onHand: 14, incoming: [] });
    // Closed: nothing more can be received on it, and nothing changes.
    const closed = await call<StockChange>(at('eu-west'), 'POST', `${incomingPath('fra-1', 'po-1')}/receive`, { body: { quantity: 1 } });
    expect(closed.status).toBe(404);
    expect(closed.headers['content-type']).toContain('application/problem+json');
    expect(closed.body.code).toBe('incoming-not-found');

    // The ledger at the owner tells the story.
    const ledger = await call<{ items: { kind: string; delta: number; reason: string }[] }>(
      at('us-east'),
      'GET',
      `/v1/warehouses/fra-1/stock/${SKU}/movements`,
    );
    expect(ledger.body.items.slice(0, 3).map((m) => `${m.kind}:${m.delta}:${m.reason}`)).toEqual([
      'adjustment:3:received',
      'adjustment:6:received',
      'set:0:incoming',
    ]);

    await converged([SKU], 'every region to see the receipt received');
    for (const region of REGIONS) {
      const view = await call<Availability>(at(region), 'GET', `/v1/availability/${SKU}`);
      expect({ region, available: view.body.available, incoming: view.body.incoming }).toEqual({
        region,
        available: 16,
        incoming: [{ expectedAt: '2026-12-20', quantity: 4, promisable: 20 }],
      });
    }
  }, 90_000);

  it('is cancelled through any region, once', async () => {
    const cancelled = await call<StockChange>(at('us-east'), 'DELETE', incomingPath('bom-1', 'asn-7'));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ region: 'ap-south', onHand: 2, incoming: [], movement: { reason: 'incoming-cancelled' } });
    const twice = await call<StockChange>(at('eu-west'), 'DELETE', incomingPath('bom-1', 'asn-7'));
    expect(twice.status).toBe(404);
    expect(twice.body.code).toBe('incoming-not-found');
    // A row that does not exist has no receipts to cancel.
    const noRow = await call<StockChange>(at('eu-west'), 'DELETE', incomingPath('bom-1', 'asn-7', 'IN-NONE'));
    expect(noRow.status).toBe(404);
    expect(noRow.body.code).toBe('stock-not-found');
    await converged([SKU, 'IN-NONE'], 'every region to see the receipt cancelled');
    const view = await call<Availability>(at('eu-west'), 'GET', `/v1/availability/${SKU}`);
    expect(view.body.incoming).toEqual([]);
  }, 90_000);

  it('refuses what is not valid, and a receipt past the most a row may have, changing nothing', async () => {
    for (const body of [
      { quantity: 0, expectedAt: '2026-12-24' },
      { quantity: 1, expectedAt: '2026-02-30' },
      { quantity: 1, expectedAt: '2026-12-24T10:00:00Z' },
      { quantity: 1 },
    ]) {
      const refused = await call<StockChange>(at('us-east'), 'PUT', incomingPath('nyc-1', 'po-x', 'IN-2'), { body });
      expect({ body, status: refused.status, code: refused.body.code }).toEqual({ body, status: 400, code: 'validation-failed' });
    }
    // Twenty open receipts on one row, the most it may have.
    for (let i = 0; i < 20; i++) {
      const day = `2027-01-${String(i + 1).padStart(2, '0')}`;
      expect(
        (await call(at('eu-west'), 'PUT', incomingPath('nyc-1', `po-${i}`, 'IN-2'), { body: { quantity: 1, expectedAt: day } })).status,
      ).toBe(200);
    }
    const past = await call<StockChange & { openReceipts?: number }>(at('us-east'), 'PUT', incomingPath('nyc-1', 'po-20', 'IN-2'), {
      body: { quantity: 1, expectedAt: '2027-02-01' },
    });
    expect(past.status).toBe(422);
    expect(past.body).toMatchObject({ code: 'incoming-limit-exceeded', openReceipts: 20 });
    // An open one may still change.
    const changed = await call<StockChange>(at('us-east'), 'PUT', incomingPath('nyc-1', 'po-0', 'IN-2'), {
      body: { quantity: 9, expectedAt: '2027-03-01' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.incoming).toHaveLength(20);
    expect(changed.body.incoming.at(-1)).toEqual({ receiptId: 'po-0', quantity: 9, expectedAt: '2027-03-01' });
    await converged(['IN-2'], 'every region to hold the twenty receipts');
  }, 120_000);
});

describe('backorders', () => {
  const BO = 'BO-1';
  const reserve = (region: string, quantity: number, allowBackorder: boolean): ReturnType<typeof call<Reservation>> =>
    call<Reservation>(at(region), 'POST', '/v1/reservations', {
      body: { lines: [{ sku: BO, quantity }], allowBackorder },
      headers: { 'idempotency-key': randomUUID() },
    });
  const row = async (): Promise<Row> => (await call<Row>(at('eu-west'), 'GET', `/v1/warehouses/fra-1/stock/${BO}`)).body;
  const receive = (region: string, quantity: number): ReturnType<typeof call<Row>> =>
    call<Row>(at(region), 'POST', `${incomingPath('fra-1', 'po-b1', BO)}/receive`, { body: { quantity } });

  it('hold incoming units only when asked, never more than the receipts expect however many race, and are filled oldest first', async () => {
    expect((await call(at('eu-west'), 'PUT', `/v1/warehouses/fra-1/stock/${BO}`, { body: { onHand: 2 } })).status).toBe(200);
    expect(
      (await call(at('eu-west'), 'PUT', incomingPath('fra-1', 'po-b1', BO), { body: { quantity: 10, expectedAt: '2027-01-10' } })).status,
    ).toBe(200);
    await converged([BO], 'every region to know the receipt');

    // 5 asked, 2 on hand: refused unless backorders are allowed.
    const refused = await reserve('us-east', 5, false);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('insufficient-stock');
    const first = await reserve('us-east', 5, true);
    expect(first.status).toBe(201);
    expect(first.body.allocations).toEqual([expect.objectContaining({ warehouseId: 'fra-1', quantity: 5, backordered: 3 })]);
    expect(await row()).toMatchObject({ onHand: 2, reserved: 2, available: 0, backordered: 3 });

    // 20 one-unit carts race from two regions for the 7 units still expected and not promised.
    await converged([BO], 'every region to see the backorder');
    const raced = await Promise.all(Array.from({ length: 20 }, (_, i) => reserve(i % 2 === 0 ? 'us-east' : 'ap-south', 1, true)));
    const won = raced.filter((r) => r.status === 201);
    expect(raced.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'insufficient-stock'))).toBe(true);
    expect(won).toHaveLength(7);
    expect(await row()).toMatchObject({ onHand: 2, reserved: 2, backordered: 10 });

    // Every unit expected is promised: the receipt cannot be cancelled, nor a storefront hold on hand more.
    const cancel = await call<Row>(at('ap-south'), 'DELETE', incomingPath('fra-1', 'po-b1', BO));
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('incoming-promised');
    await converged([BO], 'every region to see every unit promised');
    const view = await call<Availability>(at('ap-south'), 'GET', `/v1/availability/${BO}`);
    expect(view.body).toMatchObject({
      available: 0,
      backordered: 10,
      incoming: [{ expectedAt: '2027-01-10', quantity: 10, promisable: 0 }],
    });

    // 4 arrive: the oldest backorder (3 units of the first cart) and then the oldest raced cart are filled.
    const arrived = await receive('ap-south', 4);
    expect(arrived.status).toBe(201);
    expect(arrived.body).toMatchObject({ onHand: 6, reserved: 6, backordered: 6, incoming: [{ receiptId: 'po-b1', quantity: 6 }] });
    // The first cart is all on hand now: its commit ships 5.
    expect((await call(at('eu-west'), 'POST', `/v1/reservations/${first.body.id}/commit`)).status).toBe(200);
    expect(await row()).toMatchObject({ onHand: 1, reserved: 1, backordered: 6 });

    // Two raced carts are sold (one of them may still wait for its unit), one is released.
    for (const r of won.slice(0, 2)) expect((await call(at('us-east'), 'POST', `/v1/reservations/${r.body.id}/commit`)).status).toBe(200);
    expect((await call(at('us-east'), 'POST', `/v1/reservations/${won[2]!.body.id}/release`)).status).toBe(200);

    // The rest arrives: every backorder is filled, sold ones ship, and the receipt closes.
    const rest = await receive('us-east', 6);
    expect(rest.status).toBe(201);
    // On hand: 2 + 10 received - 5 - 2 sold; reserved: the 4 raced carts still held, all filled.
    expect(rest.body).toMatchObject({ onHand: 5, reserved: 4, available: 1, backordered: 0, incoming: [] });
    const ledger = await call<{ items: { kind: string; reason: string }[] }>(
      at('eu-west'),
      'GET',
      `/v1/warehouses/fra-1/stock/${BO}/movements`,
    );
    expect(ledger.body.items.filter((m) => m.reason === 'backorder').length).toBeGreaterThanOrEqual(2);
    await converged([BO], 'every region to see the backorders filled');
  }, 120_000);
});
