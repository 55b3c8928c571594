import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, registerWarehouses, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Kits across three regions running as real processes, replicating through the real broker: a kit
// defined at one region is known to every region, its availability is what its components allow,
// and reserving kits holds all their components at their owners or nothing, never overselling a
// component that several kits share.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const OWNER: Record<string, string> = { 'nyc-1': 'us-east', 'fra-1': 'eu-west', 'bom-1': 'ap-south' };
const at = (id: string): { url: string } => ({ url: t.url(id) });

interface Kit {
  sku: string;
  region: string;
  components: { sku: string; quantity: number }[];
  version: number;
}
interface Availability {
  sku: string;
  channel: string | null;
  onHand: number;
  reserved: number;
  available: number;
  warehouses: { warehouseId: string; onHand: number; reserved: number; available: number }[];
  kit: {
    components: { sku: string; quantity: number; available: number; kits: number }[];
    warehouses: { warehouseId: string; region: string; available: number }[];
  } | null;
}
interface Allocation {
  sku: string;
  warehouseId: string;
  region: string;
  quantity: number;
  state: string;
  kitSku?: string;
  kitLine?: number;
  committedQuantity?: number;
}
interface Reservation {
  id: string;
  status: string;
  allocations: Allocation[];
  code?: string;
}

const reserve = (region: string, body: unknown): ReturnType<typeof call<Reservation>> =>
  call<Reservation>(at(region), 'POST', '/v1/reservations', {
    body,
    headers: { 'idempotency-key': randomUUID() },
    timeoutMs: 60_000,
    retryBusy: true,
  });

const defineKit = (region: string, sku: string, owner: string, components: Kit['components']): ReturnType<typeof call<Kit>> =>
  call<Kit>(at(region), 'PUT', `/v1/kits/${sku}`, { body: { region: owner, components } });

async function setStock(warehouseId: string, sku: string, body: { onHand?: number; safetyStock?: number }): Promise<void> {
  const answer = await call(at(OWNER[warehouseId]), 'PUT', `/v1/warehouses/${warehouseId}/stock/${sku}`, { body });
  expect(answer.status).toBe(200);
}

/** Waits until every region's availability of `sku` passes `check`; returns what each showed. */
async function everyRegionSees(sku: string, check: (a: Availability) => boolean, what: string): Promise<Availability[]> {
  return waitFor(
    async () => {
      const seen = await Promise.all(REGIONS.map(async (r) => (await call<Availability>(at(r), 'GET', `/v1/availability/${sku}`)).body));
      return seen.every(check) ? seen : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `every region to see ${sku} ${what}` },
  );
}

/** Units per component SKU of the allocations, summed. */
const unitsBySku = (allocations: readonly Allocation[]): Record<string, number> =>
  allocations.reduce<Record<string, number>>((sum, a) => ({ ...sum, [a.sku]: (sum[a.sku] ?? 0) + a.quantity }), {});

beforeAll(async () => {
  t = await startTestCluster('kits', { STOCKMESH_HEARTBEAT_MS: '500' });
  await registerWarehouses(t, OWNER);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('a kit', () => {
  it('is defined at its region (forwarded there) and replicates to every region', async () => {
    const defined = await defineKit('us-east', 'KIT-AV', 'eu-west', [
      { sku: 'AV-1', quantity: 1 },
      { sku: 'AV-2', quantity: 3 },
    ]);
    expect(defined.status).toBe(201);
    expect(defined.headers['stockmesh-served-by']).toBe('eu-west');
    expect(defined.body).toMatchObject({ sku: 'KIT-AV', region: 'eu-west', version: 1 });
    const seen = await waitFor(
      async () => {
        const all = await Promise.all(REGIONS.map((r) => call<Kit>(at(r), 'GET', '/v1/kits/KIT-AV')));
        return all.every((a) => a.status === 200) ? all.map((a) => a.body) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'every region to know KIT-AV' },
    );
    for (const kit of seen) expect(kit).toEqual(defined.body);
    const listed = await call<{ items: Kit[] }>(at('ap-south'), 'GET', '/v1/kits');
    expect(listed.body.items.map((k) => k.sku)).toContain('KIT-AV');
  });

  it('refuses bad definitions, nesting, another region taking it over and stock of its own', async () => {
    const twice = await defineKit('eu-west', 'KIT-X', 'eu-west', [
      { sku: 'AV-1', quantity: 1 },
      { sku: 'AV-1', quantity: 2 },
    ]);
    expect(twice.status).toBe(400);
    for (const components of [[], [{ sku: 'AV-1', quantity: 0 }], [{ sku: 'AV-1', quantity: 1001 }], [{ sku: 'a/b', quantity: 1 }]]) {
      const bad = await defineKit('eu-west', 'KIT-X', 'eu-west', components);
      expect(bad.status).toBe(400);
      expect((bad.body as unknown as { code: string }).code).toBe('validation-failed');
    }
    // Kits do not nest, either way round, nor take themselves.
    const nested = await defineKit('eu-west', 'KIT-X', 'eu-west', [{ sku: 'KIT-AV', quantity: 1 }]);
    expect(nested.status).toBe(422);
    expect(nested.body).toMatchObject({ code: 'kit-component-is-kit', skus: ['KIT-AV'] });
    const itself = await defineKit('eu-west', 'KIT-X', 'eu-west', [{ sku: 'KIT-X', quantity: 1 }]);
    expect(itself.status).toBe(422);
    const component = await defineKit('eu-west', 'AV-1', 'eu-west', [{ sku: 'AV-9', quantity: 1 }]);
    expect(component.status).toBe(422);
    expect(component.body).toMatchObject({ code: 'kit-component-is-kit', kits: ['KIT-AV'] });
    // us-east knows KIT-AV as eu-west's (replicated): it may not define it as its own.
    const taken = await defineKit('us-east', 'KIT-AV', 'us-east', [{ sku: 'AV-1', quantity: 1 }]);
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'kit-region-conflict', region: 'eu-west' });
    const missing = await call<{ code: string }>(at('ap-south'), 'GET', '/v1/kits/KIT-X');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('kit-not-found');
    // A kit's units are its components: no row of its own, by a count, an adjustment or a batch.
    const count = await call<{ code: string }>(at('us-east'), 'PUT', '/v1/warehouses/fra-1/stock/KIT-AV', { body: { onHand: 5 } });
    expect(count.status).toBe(422);
    expect(count.body.code).toBe('kit-not-stocked');
    const batch = await call<{ results: { status: number; problem?: { code: string } }[] }>(at('ap-south'), 'POST', '/v1/stock/batch', {
      body: { rows: [{ warehouseId: 'bom-1', sku: 'KIT-AV', op: 'set', quantity: 5 }] },
    });
    expect(batch.body.results[0]).toMatchObject({ status: 422, problem: { code: 'kit-not-stocked' } });
  });

  it('is as available as its components allow, per warehouse and in total, by channel and past safety stock', async () => {
    // AV-1 x1 and AV-2 x3 per kit. nyc-1: min(5, 6/3) = 2; fra-1: min(2, 9/3) = 2; bom-1 has no AV-1.
    await setStock('nyc-1', 'AV-1', { onHand: 5 });
    await setStock('fra-1', 'AV-1', { onHand: 2 });
    await setStock('nyc-1', 'AV-2', { onHand: 6 });
    await setStock('fra-1', 'AV-2', { onHand: 9, safetyStock: 3 });
    await setStock('bom-1', 'AV-2', { onHand: 3 });
    // In total: min(7, floor((6 + 6 + 3) / 3)) = 5 (fra-1's safety stock leaves 6 of its 9 for sale).
    const views = await everyRegionSees(
      'KIT-AV',
      (a) => a.available === 5 && a.kit?.components[0].available === 7 && a.kit.warehouses.length === 2,
      'with 5 kits available',
    );
    for (const view of views) {
      expect(view).toMatchObject({ onHand: 0, reserved: 0, warehouses: [] });
      expect(view.kit?.components).toEqual([
        { sku: 'AV-1', quantity: 1, available: 7, kits: 7 },
        { sku: 'AV-2', quantity: 3, available: 15, kits: 5 },
      ]);
      expect(view.kit?.warehouses).toEqual([
        { warehouseId: 'fra-1', region: 'eu-west', available: 2 },
        { warehouseId: 'nyc-1', region: 'us-east', available: 2 },
      ]);
    }
    const channel = await call(at('ap-south'), 'PUT', '/v1/channels/web-asia', {
      body: { region: 'ap-south', name: 'Web shop, Asia', warehouseIds: ['bom-1', 'fra-1'] },
    });
    expect(channel.status).toBe(201);
    const inChannel = await call<{ items: Availability[] }>(at('ap-south'), 'POST', '/v1/availability/query', {
      body: { skus: ['KIT-AV', 'AV-1'], channel: 'web-asia' },
    });
    // The channel's warehouses only: AV-1 only in fra-1 (2), AV-2 in bom-1 (3) and fra-1 (6).
    expect(inChannel.body.items[0]).toMatchObject({ channel: 'web-asia', available: 2, kit: { warehouses: [{ warehouseId: 'fra-1' }] } });
    expect(inChannel.body.items[1]).toMatchObject({ sku: 'AV-1', available: 2, kit: null });
  });

  it('is reserved as all its components at their owners, and committed as whole kits', async () => {
    // Three kits from nyc-1 alone: its AV-1 suffices, its AV-2 (6, for 9) does not. Nothing stays held.
    const short = await reserve('us-east', { lines: [{ sku: 'KIT-AV', quantity: 3, warehouseId: 'nyc-1' }] });
    expect(short.status).toBe(409);
    expect(short.body).toMatchObject({
      code: 'insufficient-stock',
      detail: 'line 1 (kit KIT-AV: component AV-2) cannot be held; nothing is held',
      lines: [
        { sku: 'AV-1', requested: 3, warehouseId: 'nyc-1', kitSku: 'KIT-AV', kitLine: 1 },
        { sku: 'AV-2', requested: 9, available: 6, warehouseId: 'nyc-1', kitSku: 'KIT-AV', kitLine: 1 },
      ],
    });
    await everyRegionSees('AV-1', (a) => a.reserved === 0, 'with nothing reserved');
    const held = await reserve('ap-south', { lines: [{ sku: 'KIT-AV', quantity: 2 }] });
    expect(held.status).toBe(201);
    expect(unitsBySku(held.body.allocations)).toEqual({ 'AV-1': 2, 'AV-2': 6 });
    for (const a of held.body.allocations)
      expect(a).toMatchObject({ kitSku: 'KIT-AV', kitLine: 1, state: 'held', region: OWNER[a.warehouseId] });
    await everyRegionSees('KIT-AV', (a) => a.available === 3, 'with 3 kits left');
    // One component alone is not a line of this reservation: a kit is committed whole.
    const alone = await call<{ code: string }>(at('us-east'), 'POST', `/v1/reservations/${held.body.id}/commit`, {
      body: { lines: [{ sku: 'AV-1', quantity: 1 }] },
    });
    expect(alone.status).toBe(422);
    expect(alone.body.code).toBe('reservation-commit-invalid');
    const committed = await call<Reservation>(at('us-east'), 'POST', `/v1/reservations/${held.body.id}/commit`, {
      body: { lines: [{ sku: 'KIT-AV', quantity: 1 }] },
    });
    expect(committed.status).toBe(200);
    const taken = committed.body.allocations.filter((a) => a.state === 'committed');
    expect(
      taken.reduce<Record<string, number>>((sum, a) => ({ ...sum, [a.sku]: (sum[a.sku] ?? 0) + (a.committedQuantity ?? a.quantity) }), {}),
    ).toEqual({
      'AV-1': 1,
      'AV-2': 3,
    });
    // One kit left on-hand; the other kit's components are for sale again.
    await everyRegionSees('AV-1', (a) => a.onHand === 6 && a.reserved === 0, 'with one unit taken');
    await everyRegionSees('AV-2', (a) => a.onHand === 15 && a.reserved === 0, 'with three units taken');
  });
});

describe('kits sharing a component', () => {
  // KIT-A takes 1 SHARED and 2 PART-A; KIT-B takes 2 SHARED and 1 PART-B. 24 SHARED units in all.
  const TAKES: Record<string, Record<string, number>> = {
    'KIT-A': { SHARED: 1, 'PART-A': 2 },
    'KIT-B': { SHARED: 2, 'PART-B': 1 },
  };

  it('never oversell it: 150 carts racing over three regions hold whole kits, within its units', async () => {
    expect(
      (
        await defineKit('eu-west', 'KIT-A', 'eu-west', [
          { sku: 'SHARED', quantity: 1 },
          { sku: 'PART-A', quantity: 2 },
        ])
      ).status,
    ).toBe(201);
    expect(
      (
        await defineKit('ap-south', 'KIT-B', 'us-east', [
          { sku: 'SHARED', quantity: 2 },
          { sku: 'PART-B', quantity: 1 },
        ])
      ).status,
    ).toBe(201);
    for (const [warehouseId, onHand] of [
      ['nyc-1', 10],
      ['fra-1', 8],
      ['bom-1', 6],
    ] as const)
      await setStock(warehouseId, 'SHARED', { onHand });
    await setStock('nyc-1', 'PART-A', { onHand: 100 });
    await setStock('fra-1', 'PART-A', { onHand: 100 });
    await setStock('bom-1', 'PART-B', { onHand: 100 });
    await setStock('fra-1', 'PART-B', { onHand: 50 });
    // Every coordinator sees both kits and all their components before the race.
    await everyRegionSees('KIT-A', (a) => a.available === 24, 'with 24 kits available');
    await everyRegionSees('KIT-B', (a) => a.available === 12, 'with 12 kits available');

    const carts = Array.from({ length: 150 }, (_, i) => (i % 2 === 0 ? 'KIT-A' : 'KIT-B'));
    const answers = await Promise.all(carts.map((sku, i) => reserve(REGIONS[i % 3], { lines: [{ sku, quantity: 1 }] })));
    expect(answers.map((a) => a.status).filter((s) => s !== 201 && s !== 409 && s !== 503)).toEqual([]);
    const held: Record<string, number> = { SHARED: 0, 'PART-A': 0, 'PART-B': 0 };
    answers.forEach((answer, i) => {
      if (answer.status !== 201) return;
      // A held cart holds its whole kit: every component, in full.
      expect(unitsBySku(answer.body.allocations)).toEqual(TAKES[carts[i]]);
      for (const [sku, units] of Object.entries(TAKES[carts[i]])) held[sku] += units;
    });
    expect(held.SHARED).toBeGreaterThan(0);
    // Far more asked than there is (225 shared units for 24): the race was real.
    expect(answers.some((a) => a.status === 409)).toBe(true);
    expect(held.SHARED).toBeLessThanOrEqual(24);
    // Exactly the held carts' units are reserved, in every region: nothing of a refused cart stays held.
    for (const sku of Object.keys(held)) {
      const views = await everyRegionSees(sku, (a) => a.reserved === held[sku], `with ${held[sku]} reserved`);
      for (const view of views) for (const w of view.warehouses) expect(w.reserved).toBeLessThanOrEqual(w.onHand);
    }
    // And no shared unit is lost for sale: one-kit carts, one at a time, take whatever is left.
    while ((await reserve(REGIONS[held.SHARED % 3], { lines: [{ sku: 'KIT-A', quantity: 1 }] })).status === 201) {
      held.SHARED += 1;
      await everyRegionSees('SHARED', (a) => a.reserved === held.SHARED, `with ${held.SHARED} reserved`);
    }
    const shared = await everyRegionSees('SHARED', (a) => a.reserved === 24, 'sold out');
    for (const view of shared) for (const w of view.warehouses) expect(w.reserved).toBe(w.onHand);
  }, 120_000);
});
