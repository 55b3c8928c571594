import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RateLimiter } from '@stockmesh/auth';
import { call, ManualClock, signedCall, startTestRegion, type Answer, type TestRegion } from '@stockmesh/testing';

// Rate limits on one region in-process, on the real PostgreSQL, with a clock the test moves: a
// bucket refills only when the test says time has passed. Three requests at once per caller (the
// burst), then one a second; the admin key is exempt (STOCKMESH_LIMITS_EXEMPT_ADMIN, as in every
// test region).
let region: TestRegion;
const clock = new ManualClock();
const W = 'nyc-1';
const STOCK = `/v1/warehouses/${W}/stock/SKU-A`;

interface CreatedKey {
  id: string;
  name: string;
  scopes: string[];
  key: string;
}

async function makeKey(name: string): Promise<CreatedKey> {
  const made = await call<CreatedKey>(region, 'POST', '/v1/api-keys', { body: { name, scopes: ['stock:read'] } });
  expect(made.status).toBe(201);
  return made.body;
}

/** A read with `key`; the test admin key when none is given, no key at all with `null`. */
const read = (key?: string | null): Promise<Answer> => call(region, 'GET', STOCK, { key });

function expectRateLimited(answer: Answer, retryAfterSeconds: number): void {
  expect(answer.status).toBe(429);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.headers['retry-after']).toBe(String(retryAfterSeconds));
  expect(answer.body).toMatchObject({ status: 429, code: 'rate-limited', retryAfterSeconds, limit: { ratePerSecond: 1, burst: 3 } });
}

beforeAll(async () => {
  region = await startTestRegion(
    'ratelimit',
    { STOCKMESH_RATE_LIMIT: '1', STOCKMESH_RATE_BURST: '3', STOCKMESH_DATABASES_PER_REGION: '1' },
    { clock },
  );
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: 'New York 1' } })).status).toBe(201);
  expect((await call(region, 'PUT', STOCK, { body: { onHand: 10 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('rate limits per API key', () => {
  it('answers 429 with Retry-After once a key used its burst, and lets it go on as its bucket refills', async () => {
    const { key } = await makeKey('burst');
    for (let i = 0; i < 3; i++) expect((await read(key)).status).toBe(200);
    expectRateLimited(await read(key), 1);
    clock.advance(500);
    // Half a token: still refused, and told the rest of the wait (rounded up to whole seconds).
    expectRateLimited(await read(key), 1);
    clock.advance(500);
    expect((await read(key)).status).toBe(200);
    expectRateLimited(await read(key), 1);
  });

  it('limits each key on its own: one key out of requests leaves another untouched', async () => {
    const greedy = await makeKey('greedy');
    const polite = await makeKey('polite');
    for (let i = 0; i < 3; i++) expect((await read(greedy.key)).status).toBe(200);
    expectRateLimited(await read(greedy.key), 1);
    for (let i = 0; i < 3; i++) expect((await read(polite.key)).status).toBe(200);
  });

  it('counts refused requests too: a 403 takes a token like a 200', async () => {
    const { key } = await makeKey('no-write');
    for (let i = 0; i < 3; i++) expect((await call(region, 'PUT', STOCK, { key, body: { onHand: 1 } })).status).toBe(403);
    expectRateLimited(await call(region, 'PUT', STOCK, { key, body: { onHand: 1 } }), 1);
    expect((await call(region, 'GET', STOCK)).body).toMatchObject({ onHand: 10 });
  });

  it('exempts the admin key when configured to (STOCKMESH_LIMITS_EXEMPT_ADMIN=true)', async () => {
    for (let i = 0; i < 20; i++) expect((await read()).status).toBe(200);
  });
});

describe('rate limits without a valid key, and what is never limited', () => {
  // One client address for every request of this describe: 127.0.0.1. The cases run in order.
  let tracked: CreatedKey;

  beforeAll(async () => {
    tracked = await makeKey('tracked');
  });

  it('limits requests without a valid key per client address: 401s up to the burst, then 429', async () => {
    clock.advance(10_000); // every bucket full again
    expect((await read(null)).status).toBe(401);
    expect((await read('not-a-stockmesh-key')).status).toBe(401);
    expect((await read(`smk_0123456789abcdef_${'A'.repeat(43)}`)).status).toBe(401);
    // Guessing keys is limited like sending none.
    expectRateLimited(await read(`smk_0123456789abcdef_${'B'.repeat(43)}`), 1);
    expectRateLimited(await read(null), 1);
    // The address's bucket is not the keys': a client there with a valid key goes on.
    expect((await read(tracked.key)).status).toBe(200);
  });

  it('never limits health and docs', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await call(region, 'GET', '/health/live', { key: null })).status).toBe(200);
      expect((await call(region, 'GET', '/docs/json', { key: null })).status).toBe(200);
    }
    expectRateLimited(await read(null), 1);
  });

  it('never limits signed region calls: a forwarded request was charged where it arrived', async () => {
    for (let i = 0; i < 2; i++) expect((await read(tracked.key)).status).toBe(200);
    expectRateLimited(await read(tracked.key), 1);
    const caller = { keyId: tracked.id, name: tracked.name, scopes: tracked.scopes };
    for (let i = 0; i < 10; i++) {
      const forwarded = await signedCall(region, 'GET', STOCK, { caller, forwarded: true, at: clock.now() });
      expect(forwarded.status).toBe(200);
    }
  });

  it('keeps counters a metrics exporter can read', () => {
    const counters = region.app.get(RateLimiter).counters();
    expect(counters.refused).toBeGreaterThanOrEqual(9);
    expect(counters.allowed).toBeGreaterThan(counters.refused);
    expect(counters.buckets).toBeGreaterThan(0);
  });
});
