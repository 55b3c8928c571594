import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReservationsService } from '@stockmesh/reservations';
import { shardOf } from '@stockmesh/sharding';
import { call, startTestRegion, waitFor, type Answer, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// Reservation quotas per API key, and the deadline of a reservation, in one region in-process on
// the real PostgreSQL. Its peer `eu-west` is a stand-in owner this test runs, which can stop
// answering like a paused process: it takes connections and requests, and acts on them only
// when it resumes.

/** Holds at the stand-in owner: what a real owner keeps (a release before its place leaves a tombstone). */
class StandInOwner {
  readonly holds = new Map<string, 'held' | 'released'>();
  private paused = false;
  private queued: (() => void)[] = [];
  private readonly server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => (this.paused ? this.queued.push(() => this.act(request, response)) : this.act(request, response)));
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  pause(): void {
    this.paused = true;
  }

  /** Acts on what arrived while paused, in order (answering callers that may have given up), then on the rest. */
  resume(): void {
    this.paused = false;
    for (const act of this.queued.splice(0)) act();
  }

  /** Hold ids still held. */
  held(): string[] {
    return [...this.holds].filter(([, state]) => state === 'held').map(([id]) => id);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private act(request: IncomingMessage, response: ServerResponse): void {
    const holdId = /^\/internal\/v1\/holds\/([^/]+)/.exec(request.url ?? '')?.[1] ?? '';
    let status = 200;
    if (request.method === 'PUT') {
      if (this.holds.get(holdId) === 'released') status = 409;
      else this.holds.set(holdId, 'held');
    } else if (request.url?.endsWith('/release')) {
      this.holds.set(holdId, 'released');
    }
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(status === 200 ? '{}' : '{"code":"hold-conflict"}');
  }
}

interface Reservation {
  id: string;
  status: string;
}

interface CreatedKey {
  id: string;
  key: string;
}

const owner = new StandInOwner();
let region: TestRegion;
const W = 'nyc-1';
const DEADLINE_MS = 1_500;

const sql = <T extends object>(text: string, params: unknown[] = []): Promise<T[]> => {
  const databases = region.app.get(ShardDatabases);
  return databases.inDatabase(databases.home(), (tx) => tx.query<T>(text, params));
};

async function storefrontKey(name: string): Promise<CreatedKey> {
  const made = await call<CreatedKey>(region, 'POST', '/v1/api-keys', { body: { name, scopes: ['reservations:write', 'stock:read'] } });
  expect(made.status).toBe(201);
  return made.body;
}

/** A reservation of `quantity` units of SKU-Q at nyc-1, made with `key` (the admin key if `undefined`). */
const reserve = (
  key: string | undefined,
  quantity = 1,
  idempotencyKey = randomUUID(),
): Promise<Answer<Reservation & Record<string, unknown>>> =>
  call(region, 'POST', '/v1/reservations', {
    key,
    body: { lines: [{ sku: 'SKU-Q', quantity, warehouseId: W }] },
    headers: { 'idempotency-key': idempotencyKey },
  });

const reservedAtNyc = async (): Promise<number> =>
  (await call<{ reserved: number }>(region, 'GET', `/v1/warehouses/${W}/stock/SKU-Q`)).body.reserved;

function expectQuota(answer: Answer, code: string, fields: Record<string, unknown>): void {
  expect(answer.status).toBe(429);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status: 429, code, ...fields });
}

beforeAll(async () => {
  const port = await owner.listen();
  region = await startTestRegion('resvlimits', {
    STOCKMESH_REGIONS: 'us-east,eu-west',
    // eu-west's internal listener (internal base + 1) is the stand-in owner; no public port is bound.
    STOCKMESH_INTERNAL_BASE_PORT: String(port - 1),
    STOCKMESH_BASE_PORT: String(port + 100),
    STOCKMESH_DATABASES_PER_REGION: '1',
    STOCKMESH_QUOTA_OPEN_RESERVATIONS: '2',
    STOCKMESH_QUOTA_UNITS_HELD: '5',
    STOCKMESH_RESERVATION_DEADLINE_MS: String(DEADLINE_MS),
    // The admin key is held to the quotas here too.
    STOCKMESH_LIMITS_EXEMPT_ADMIN: 'false',
  });
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
  expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-Q`, { body: { onHand: 1_000 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await region?.close();
  await owner.close();
});

describe('reservation quotas per API key', () => {
  it('refuses a key its third open reservation with a quota of two, says which quota, and takes it again once one is released', async () => {
    const shop = await storefrontKey('quota-open');
    const first = await reserve(shop.key);
    const second = await reserve(shop.key);
    expect([first.status, second.status]).toEqual([201, 201]);
    const reserved = await reservedAtNyc();
    const refused = await reserve(shop.key);
    expectQuota(refused, 'open-reservations-quota-exceeded', { quota: 'open-reservations', limit: 2, open: 2 });
    expect(refused.body.detail).toMatch(/2 open reservations/);
    // A refused request holds nothing and leaves no reservation behind.
    expect(await reservedAtNyc()).toBe(reserved);
    expect(await sql(`SELECT id FROM reservations WHERE created_by = $1 ORDER BY created_at`, [shop.id])).toEqual([
      { id: first.body.id },
      { id: second.body.id },
    ]);
    // Another key is not touched by this one's quota.
    expect((await reserve((await storefrontKey('quota-other')).key)).status).toBe(201);

    expect((await call(region, 'POST', `/v1/reservations/${first.body.id}/release`, { key: shop.key })).status).toBe(200);
    expect((await reserve(shop.key)).status).toBe(201);
  });

  it('replays a request the key already made, even at its quota', async () => {
    const shop = await storefrontKey('quota-replay');
    const again = randomUUID();
    const first = await reserve(shop.key, 1, again);
    expect((await reserve(shop.key)).status).toBe(201);
    const replayed = await reserve(shop.key, 1, again);
    expect(replayed.status).toBe(201);
    expect(replayed.body.id).toBe(first.body.id);
  });

  it('no longer counts a committed reservation', async () => {
    const shop = await storefrontKey('quota-commit');
    const first = await reserve(shop.key);
    expect((await reserve(shop.key)).status).toBe(201);
    expect((await call(region, 'POST', `/v1/reservations/${first.body.id}/commit`, { key: shop.key })).status).toBe(200);
    expect((await reserve(shop.key)).status).toBe(201);
  });

  it('refuses a reservation that would take the key past its units, and counts what the others hold', async () => {
    const shop = await storefrontKey('quota-units');
    expect((await reserve(shop.key, 4)).status).toBe(201);
    const refused = await reserve(shop.key, 2);
    expectQuota(refused, 'held-units-quota-exceeded', { quota: 'units-held', limit: 5, held: 4, requested: 2 });
    expect((await reserve(shop.key, 1)).status).toBe(201);
    // One reservation larger than the quota on its own is refused too.
    const greedy = await storefrontKey('quota-units-greedy');
    expectQuota(await reserve(greedy.key, 6), 'held-units-quota-exceeded', { held: 0, requested: 6 });
  });

  it('holds under concurrency: of ten requests at once, exactly as many pass as the quotas allow', async () => {
    const counted = await storefrontKey('quota-race-open');
    const open = await Promise.all(Array.from({ length: 10 }, () => reserve(counted.key)));
    expect(open.filter((a) => a.status === 201)).toHaveLength(2);
    expect(open.filter((a) => a.status === 429 && a.body.code === 'open-reservations-quota-exceeded')).toHaveLength(8);

    const units = await storefrontKey('quota-race-units');
    const big = await Promise.all(Array.from({ length: 10 }, () => reserve(units.key, 3)));
    expect(big.filter((a) => a.status === 201)).toHaveLength(1);
    expect(big.filter((a) => a.status === 429 && a.body.code === 'held-units-quota-exceeded')).toHaveLength(9);

    const [row] = await sql<{ n: number; units: string }>(
      `SELECT count(*)::int AS n, sum(units)::text AS units FROM reservations WHERE created_by = ANY($1) AND status = 'held'`,
      [[counted.id, units.id]],
    );
    expect(row).toEqual({ n: 3, units: '5' });
  });

  it('holds the admin key to the quotas unless STOCKMESH_LIMITS_EXEMPT_ADMIN says otherwise', async () => {
    expect((await reserve(undefined)).status).toBe(201);
    expect((await reserve(undefined)).status).toBe(201);
    expectQuota(await reserve(undefined), 'open-reservations-quota-exceeded', { limit: 2 });
  });
});

describe('the deadline of a reservation', () => {
  it('answers within the deadline when the owner does not answer, and leaves nothing held once it does', async () => {
    // eu-west's stock, as this region's replica shows it: one unit in each of two warehouses.
    for (const warehouse of ['fra-1', 'fra-2']) {
      await sql(
        `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, event_id)
         VALUES ($1, 'SKU-FAR', $2, 'eu-west', 1, 0, 1, now(), 'test')`,
        [warehouse, shardOf('SKU-FAR', region.config.cluster.shardCount)],
      );
    }
    const shop = await storefrontKey('deadline');
    const before = region.app.get(ReservationsService).counters().deadlinesExceeded;
    const idempotencyKey = randomUUID();
    const ask = (): Promise<Answer> =>
      call(region, 'POST', '/v1/reservations', {
        key: shop.key,
        body: { reference: 'too-slow', lines: [{ sku: 'SKU-FAR', quantity: 2 }] },
        headers: { 'idempotency-key': idempotencyKey },
      });
    owner.pause();
    const sent = Date.now();
    const answer = await ask();
    const tookMs = Date.now() - sent;
    // Each owner call alone may take 2 s, and there are two warehouses to try and a release after
    // each: without the deadline this answer takes about 10 s. With it, the deadline and the time
    // to write the answer (the margin is for a loaded machine, not for another owner call).
    expect(tookMs).toBeLessThan(DEADLINE_MS + 1_000);
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({
      code: 'reservation-deadline-exceeded',
      deadlineMs: DEADLINE_MS,
      unansweredRegions: ['eu-west'],
    });
    expect(String((answer.body as { detail?: string }).detail)).toMatch(/nothing is held/);
    expect(region.app.get(ReservationsService).counters().deadlinesExceeded).toBe(before + 1);
    const [{ id, status }] = await sql<{ id: string; status: string }>(`SELECT id, status FROM reservations WHERE reference = 'too-slow'`);
    expect(status).toBe('failed');
    expect((await call(region, 'GET', `/v1/reservations/${id}`, { key: shop.key })).status).toBe(404);
    // The same request again is the same answer, at once.
    expect((await ask()).body).toMatchObject({ code: 'reservation-deadline-exceeded' });

    // The owner comes back and acts on what reached it while it was paused, the hold included;
    // the coordinator's release follows, so nothing stays held, there or in the saga's records.
    owner.resume();
    await waitFor(
      async () => {
        const open = await sql(`SELECT 1 FROM reservation_allocations WHERE reservation_id = $1 AND state IN ('intent', 'held')`, [id]);
        return open.length === 0 && owner.held().length === 0 ? true : undefined;
      },
      {
        timeoutMs: 30_000,
        what: 'every hold of the reservation to be released',
        describe: async () =>
          JSON.stringify({
            owner: [...owner.holds],
            allocations: await sql(`SELECT allocation_no, state FROM reservation_allocations WHERE reservation_id = $1`, [id]),
          }),
      },
    );
    expect([...owner.holds.keys()]).toEqual([`${id}.1`]);
  }, 60_000);
});
