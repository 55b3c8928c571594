import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, registerWarehouses, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// Sales channels across three regions running as real processes, replicating through the real
// broker: a channel defined at one region is known to every region, its availability counts only
// its warehouses, and reservations made for it draw from them alone, in its order.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const OWNER: Record<string, string> = { 'nyc-1': 'us-east', 'fra-1': 'eu-west', 'bom-1': 'ap-south' };
const at = (id: string): { id: string; url: string } => ({ id, url: t.url(id) });
const SKU = 'CH-1';

interface Channel {
  id: string;
  region: string;
  name: string;
  warehouseIds: string[];
  version: number;
}
interface Availability {
  channel: string | null;
  available: number;
  warehouses: { warehouseId: string; available: number }[];
}
interface Reservation {
  id: string;
  channel: string | null;
  allocations: { warehouseId: string; quantity: number }[];
}

const reserve = (region: string, body: unknown): ReturnType<typeof call<Reservation & { code?: string }>> =>
  call<Reservation & { code?: string }>(at(region), 'POST', '/v1/reservations', { body, headers: { 'idempotency-key': randomUUID() } });

/** Waits until every region shows the channel at `version`; returns what each showed. */
async function seenEverywhere(id: string, version: number): Promise<Channel[]> {
  return waitFor(
    async () => {
      const seen = await Promise.all(REGIONS.map((r) => call<Channel>(at(r), 'GET', `/v1/channels/${id}`)));
      return seen.every((s) => s.status === 200 && s.body.version === version) ? seen.map((s) => s.body) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `every region to know channel ${id} at version ${version}` },
  );
}

beforeAll(async () => {
  t = await startTestCluster('channels', { STOCKMESH_HEARTBEAT_MS: '500' });
  await registerWarehouses(t, OWNER);
  for (const [warehouseId, onHand] of [
    ['nyc-1', 50],
    ['fra-1', 3],
    ['bom-1', 10],
  ] as const) {
    const set = await call(at(OWNER[warehouseId]), 'PUT', `/v1/warehouses/${warehouseId}/stock/${SKU}`, { body: { onHand } });
    expect(set.status).toBeLessThan(300);
  }
  // us-east coordinates the reservations below: it must see the other regions' rows.
  await waitFor(
    async () => {
      const view = await call<Availability>(at('us-east'), 'GET', `/v1/availability/${SKU}`);
      return view.body.available === 63 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'us-east to see every warehouse’s stock' },
  );
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('a sales channel', () => {
  it('is defined at its region (forwarded there) and replicates to every region', async () => {
    const defined = await call<Channel>(at('us-east'), 'PUT', '/v1/channels/web-eu', {
      body: { region: 'eu-west', name: 'Web shop, Europe', warehouseIds: ['fra-1', 'bom-1'] },
    });
    expect(defined.status).toBe(201);
    expect(defined.body).toMatchObject({ id: 'web-eu', region: 'eu-west', warehouseIds: ['fra-1', 'bom-1'], version: 1 });
    const seen = await seenEverywhere('web-eu', 1);
    for (const s of seen) expect(s).toEqual(defined.body);
    const listed = await call<{ items: Channel[] }>(at('ap-south'), 'GET', '/v1/channels');
    expect(listed.body.items.map((c) => c.id)).toContain('web-eu');
  });

  it('refuses unknown warehouses, bad bodies and another region taking it over', async () => {
    const unknown = await call<{ code: string; warehouseIds: string[] }>(at('eu-west'), 'PUT', '/v1/channels/web-x', {
      body: { region: 'eu-west', name: 'X', warehouseIds: ['fra-1', 'nowhere-1'] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ code: 'unknown-warehouse', warehouseIds: ['nowhere-1'] });
    const twice = await call<{ code: string }>(at('eu-west'), 'PUT', '/v1/channels/web-x', {
      body: { region: 'eu-west', name: 'X', warehouseIds: ['fra-1', 'fra-1'] },
    });
    expect(twice.status).toBe(400);
    expect(twice.body.code).toBe('validation-failed');
    const empty = await call<{ code: string }>(at('eu-west'), 'PUT', '/v1/channels/web-x', {
      body: { region: 'eu-west', name: 'X', warehouseIds: [] },
    });
    expect(empty.status).toBe(400);
    // us-east knows web-eu as eu-west's (replicated): it may not define it as its own.
    const taken = await call<{ code: string; region: string }>(at('us-east'), 'PUT', '/v1/channels/web-eu', {
      body: { region: 'us-east', name: 'Mine', warehouseIds: ['nyc-1'] },
    });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'channel-region-conflict', region: 'eu-west' });
    const missing = await call<{ code: string }>(at('ap-south'), 'GET', '/v1/channels/web-x');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('channel-not-found');
  });

  it('limits availability to its warehouses, in its order, in every region', async () => {
    for (const region of REGIONS) {
      const view = await call<Availability>(at(region), 'GET', `/v1/availability/${SKU}?channel=web-eu`);
      expect(view.status).toBe(200);
      expect(view.body.channel).toBe('web-eu');
      expect(view.body.warehouses.map((w) => w.warehouseId)).toEqual(['fra-1', 'bom-1']);
      expect(view.body.available).toBe(13);
    }
    const all = await call<Availability>(at('us-east'), 'GET', `/v1/availability/${SKU}`);
    expect(all.body).toMatchObject({ channel: null, available: 63 });
    const query = await call<{ items: Availability[] }>(at('us-east'), 'POST', '/v1/availability/query', {
      body: { skus: [SKU], channel: 'web-eu' },
    });
    expect(query.body.items[0]).toMatchObject({ channel: 'web-eu', available: 13 });
    const unknown = await call<{ code: string }>(at('us-east'), 'GET', `/v1/availability/${SKU}?channel=nope`);
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('unknown-channel');
  });

  it('holds a reservation made for it only in its warehouses, in its order', async () => {
    // us-east would draw from its own nyc-1 first; the channel sells from fra-1, then bom-1.
    const held = await reserve('us-east', { channel: 'web-eu', lines: [{ sku: SKU, quantity: 5 }] });
    expect(held.status).toBe(201);
    expect(held.body.channel).toBe('web-eu');
    expect(held.body.allocations.map((a) => [a.warehouseId, a.quantity])).toEqual([
      ['fra-1', 3],
      ['bom-1', 2],
    ]);
    const read = await call<Reservation>(at('ap-south'), 'GET', `/v1/reservations/${held.body.id}`);
    expect(read.body.channel).toBe('web-eu');
    // Eight left in the channel: nine cannot be held, though nyc-1 has fifty.
    const short = await reserve('us-east', { channel: 'web-eu', lines: [{ sku: SKU, quantity: 9 }] });
    expect(short.status).toBe(409);
    expect(short.body.code).toBe('insufficient-stock');
    const without = await reserve('us-east', { lines: [{ sku: SKU, quantity: 9 }] });
    expect(without.status).toBe(201);
    expect(without.body).toMatchObject({ channel: null, allocations: [{ warehouseId: 'nyc-1', quantity: 9 }] });
  });

  it('refuses a reservation naming a warehouse outside it, or an unknown channel, holding nothing', async () => {
    const outside = await reserve('us-east', { channel: 'web-eu', lines: [{ sku: SKU, quantity: 1, warehouseId: 'nyc-1' }] });
    expect(outside.status).toBe(422);
    expect(outside.body).toMatchObject({ code: 'warehouse-outside-channel', warehouseId: 'nyc-1' });
    const unknown = await reserve('us-east', { channel: 'nope', lines: [{ sku: SKU, quantity: 1 }] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('unknown-channel');
    // The 409 of the test before may have held units at fra-1 and bom-1 and released them: us-east
    // sees those rows through its replicas, which follow the owners' releases a moment later.
    let available: number | undefined;
    await waitFor(
      async () => {
        available = (await call<Availability>(at('us-east'), 'GET', `/v1/availability/${SKU}`)).body.available;
        return available === 63 - 5 - 9 ? true : undefined;
      },
      {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: 'us-east to see nothing held but the two reservations',
        describe: async () => `available ${available}`,
      },
    );
    expect(available).toBe(63 - 5 - 9);
  });

  it('changes at its region, and every region follows the new order', async () => {
    const changed = await call<Channel>(at('ap-south'), 'PUT', '/v1/channels/web-eu', {
      body: { region: 'eu-west', name: 'Web shop, Europe', warehouseIds: ['bom-1', 'fra-1'] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ warehouseIds: ['bom-1', 'fra-1'], version: 2 });
    await seenEverywhere('web-eu', 2);
    const view = await call<Availability>(at('us-east'), 'GET', `/v1/availability/${SKU}?channel=web-eu`);
    expect(view.body.warehouses.map((w) => w.warehouseId)).toEqual(['bom-1', 'fra-1']);
    // The same definition again changes nothing.
    const same = await call<Channel>(at('eu-west'), 'PUT', '/v1/channels/web-eu', {
      body: { region: 'eu-west', name: 'Web shop, Europe', warehouseIds: ['bom-1', 'fra-1'] },
    });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(2);
  });
});

describe('an API key bound to a channel', () => {
  let key: string;

  it('is refused for a channel the region does not know', async () => {
    const refused = await call<{ code: string }>(at('ap-south'), 'POST', '/v1/api-keys', {
      body: { name: 'web-eu storefront', scopes: ['stock:read'], channel: 'nope' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('unknown-channel');
  });

  it('sees and reserves only its channel, in every region', async () => {
    // Made at ap-south, used at us-east once replicated (the binding travels, signed, with the key).
    const made = await call<{ key: string; channel: string }>(at('ap-south'), 'POST', '/v1/api-keys', {
      body: { name: 'web-eu storefront', scopes: ['stock:read', 'reservations:write'], channel: 'web-eu' },
    });
    expect(made.status).toBe(201);
    expect(made.body.channel).toBe('web-eu');
    key = made.body.key;
    const view = await waitFor(
      async () => {
        const answer = await call<Availability>(at('us-east'), 'GET', `/v1/availability/${SKU}`, { key });
        return answer.status === 200 ? answer.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the key to replicate to us-east' },
    );
    // No ?channel= asked: the key's channel answers (bom-1 then fra-1 since the change above).
    expect(view.channel).toBe('web-eu');
    expect(view.warehouses.map((w) => w.warehouseId)).toEqual(['bom-1', 'fra-1']);
    const other = await call<{ code: string }>(at('us-east'), 'GET', `/v1/availability/${SKU}?channel=web-us`, { key });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('channel-forbidden');
    const held = await call<Reservation>(at('us-east'), 'POST', '/v1/reservations', {
      key,
      body: { lines: [{ sku: SKU, quantity: 1 }] },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({ channel: 'web-eu', allocations: [{ warehouseId: 'bom-1', quantity: 1 }] });
    // Every region's view, asked for this key through us-east, is the channel's.
    const byRegion = await call<{ regions: { region: string; availability: Availability | null }[] }>(
      at('us-east'),
      'GET',
      `/v1/availability/${SKU}/regions`,
      { key },
    );
    expect(byRegion.body.regions.map((r) => [r.region, r.availability?.channel])).toEqual(REGIONS.map((r) => [r, 'web-eu']));
  });
});
