import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';

// Keys are global: made in one region, used in the others once replicated through the real
// broker, and revoked from any region.
let t: TestCluster;
const US = 'us-east';
const EU = 'eu-west';
const AP = 'ap-south';
const at = (id: string): { url: string } => ({ url: t.url(id) });

beforeAll(async () => {
  t = await startTestCluster('apikeys');
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** Waits until `region` answers `status` to a read with `key`; resolves how long that took from `since`. */
async function untilAnswer(region: string, key: string, status: number, since: number): Promise<number> {
  let last = 0;
  await waitFor(
    async () => {
      last = (await call(at(region), 'GET', '/v1/warehouses', { key })).status;
      return last === status ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 20, what: `${region} to answer ${status}`, describe: async () => `HTTP ${last}` },
  );
  return Date.now() - since;
}

describe('API keys across regions', () => {
  it('replicates a key made in us-east to every region, and its revocation in eu-west too', async () => {
    const made = await call<{ id: string; key: string }>(at(US), 'POST', '/v1/api-keys', {
      body: { name: 'storefront', scopes: ['stock:read', 'reservations:write'] },
    });
    expect(made.status).toBe(201);
    const created = Date.now();
    const { id, key } = made.body;
    expect((await call(at(US), 'GET', '/v1/warehouses', { key })).status).toBe(200);
    const usable = { [EU]: await untilAnswer(EU, key, 200, created), [AP]: await untilAnswer(AP, key, 200, created) };

    // Still only the scopes it was given, everywhere.
    for (const region of [EU, AP]) {
      const refused = await call(at(region), 'PUT', '/v1/warehouses/x-1/stock/SKU-1', { key, body: { onHand: 1 } });
      expect(refused.status).toBe(403);
    }
    const listed = await call<{ items: { id: string; region: string; revokedAt: string | null }[] }>(at(AP), 'GET', '/v1/api-keys');
    expect(listed.body.items).toContainEqual(expect.objectContaining({ id, region: US, revokedAt: null }));

    expect((await call(at(EU), 'DELETE', `/v1/api-keys/${id}`)).status).toBe(204);
    const revoked = Date.now();
    expect((await call(at(EU), 'GET', '/v1/warehouses', { key })).status).toBe(401);
    const refused = { [US]: await untilAnswer(US, key, 401, revoked), [AP]: await untilAnswer(AP, key, 401, revoked) };
    for (const region of [US, EU, AP]) {
      const answer = await call(at(region), 'GET', '/v1/warehouses', { key });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ code: 'unauthenticated', reason: 'revoked-key' });
    }
    const tombstone = await call<{ items: { id: string; revokedAt: string | null }[] }>(at(US), 'GET', '/v1/api-keys');
    expect(tombstone.body.items.find((k) => k.id === id)?.revokedAt).toEqual(expect.any(String));
    // The figure docs/security.md quotes: observed, not asserted (the poll adds up to ~20 ms).
    process.stdout.write(
      `api-key replication: key usable after ${JSON.stringify(usable)} ms, revocation effective after ${JSON.stringify(refused)} ms\n`,
    );
  });

  it("records a forwarded write under the client's key at the owner", async () => {
    const registered = await call(at(US), 'PUT', '/v1/warehouses/nyc-9', { body: { region: US, name: 'New York 9' } });
    expect(registered.status).toBe(201);
    const made = await call<{ id: string; key: string }>(at(EU), 'POST', '/v1/api-keys', {
      body: { name: 'wms-eu', scopes: ['stock:write'] },
    });
    const { id, key } = made.body;
    // The key must be known where the request arrives (eu-west, which made it) and at the owner (us-east).
    await untilAnswer(US, key, 403, Date.now());
    let last = '';
    const written = await waitFor(
      async () => {
        // eu-west learns the warehouse through the catalog; until then it answers 404.
        const answer = await call<{ movement: { actor: string } }>(at(EU), 'PUT', '/v1/warehouses/nyc-9/stock/SKU-K', {
          key,
          body: { onHand: 3 },
        });
        last = `${answer.status} ${JSON.stringify(answer.body)}`;
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 30_000, what: 'a forwarded write', describe: async () => last },
    );
    expect(written.headers['stockmesh-served-by']).toBe(US);
    expect(written.body.movement.actor).toBe(`key ${id} (wms-eu)`);
  });

  it('replicates keys and revocations from any region to all others', async () => {
    // Five rounds, each from another region: the distribution docs/security.md quotes (printed, not asserted).
    const usable: number[] = [];
    const refused: number[] = [];
    const regions = [US, EU, AP];
    for (let round = 0; round < 5; round++) {
      const home = regions[round % 3];
      const others = regions.filter((r) => r !== home);
      const made = await call<{ id: string; key: string }>(at(home), 'POST', '/v1/api-keys', {
        body: { name: `round-${round}`, scopes: ['stock:read'] },
      });
      expect(made.status).toBe(201);
      const createdAt = Date.now();
      usable.push(...(await Promise.all(others.map((r) => untilAnswer(r, made.body.key, 200, createdAt)))));
      const revoker = others[0];
      expect((await call(at(revoker), 'DELETE', `/v1/api-keys/${made.body.id}`)).status).toBe(204);
      const revokedAt = Date.now();
      const elsewhere = regions.filter((r) => r !== revoker);
      refused.push(...(await Promise.all(elsewhere.map((r) => untilAnswer(r, made.body.key, 401, revokedAt)))));
    }
    const sorted = (xs: number[]): string => JSON.stringify([...xs].sort((a, b) => a - b));
    process.stdout.write(
      `api-key replication, 5 rounds: key usable after ${sorted(usable)} ms, revocation effective after ${sorted(refused)} ms\n`,
    );
  });
});
