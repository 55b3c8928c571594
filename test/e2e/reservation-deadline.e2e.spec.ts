import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { regionPid } from '../../infra/chaos/chaos-faults.js';

// The deadline of a reservation across three region processes, the real broker and PostgreSQL:
// the owner of the stock is stopped with SIGSTOP (it keeps its sockets, so calls to it connect
// and then hear nothing, as with a hung host), and continued once the answer came.
let t: TestCluster;
const DEADLINE_MS = 3_000;
const at = (id: string): { url: string } => ({ url: t.url(id) });

/** Rows of a statement run on every database of `region`. */
async function rowsOf<T>(region: string, text: string, params: unknown[] = []): Promise<T[]> {
  const databases = t.cluster.config.regions.find((r) => r.id === region)?.databases ?? [];
  const rows: T[] = [];
  for (const db of databases) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      rows.push(...(await client.query(text, params)).rows);
    } finally {
      await client.end();
    }
  }
  return rows;
}

beforeAll(async () => {
  t = await startTestCluster('resvdl', { STOCKMESH_HEARTBEAT_MS: '500', STOCKMESH_RESERVATION_DEADLINE_MS: String(DEADLINE_MS) });
  // Two warehouses in eu-west with one unit each: a cart of two units needs both.
  for (const w of ['fra-1', 'fra-2']) {
    expect((await call(at('eu-west'), 'PUT', `/v1/warehouses/${w}`, { body: { region: 'eu-west', name: w } })).status).toBe(201);
    expect((await call(at('eu-west'), 'PUT', `/v1/warehouses/${w}/stock/SKU-DL`, { body: { onHand: 1 } })).status).toBe(200);
  }
  await waitFor(
    async () =>
      (await call<{ available: number }>(at('us-east'), 'GET', '/v1/availability/SKU-DL')).body.available === 2 ? true : undefined,
    { timeoutMs: 60_000, what: 'us-east to see the two units in eu-west' },
  );
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('a reservation whose owner region hangs', () => {
  it('answers within the deadline with nothing held, and the owner ends with nothing reserved once it runs again', async () => {
    const pid = regionPid('eu-west');
    if (pid === undefined) throw new Error('no eu-west process');
    const reference = `hung-owner-${randomUUID()}`;
    let answer: Awaited<ReturnType<typeof call>>;
    let tookMs: number;
    process.kill(pid, 'SIGSTOP');
    try {
      const sent = Date.now();
      answer = await call(at('us-east'), 'POST', '/v1/reservations', {
        body: { reference, lines: [{ sku: 'SKU-DL', quantity: 2 }] },
        headers: { 'idempotency-key': randomUUID() },
      });
      tookMs = Date.now() - sent;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Without the deadline: 2 s for each of the two holds and 2 s for each compensating release,
    // then the releases once more (about 10 s). The margin is for a loaded machine.
    expect(tookMs).toBeLessThan(DEADLINE_MS + 1_500);
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'reservation-deadline-exceeded', unansweredRegions: ['eu-west'] });

    const [reservation] = await rowsOf<{ id: string; status: string }>(
      'us-east',
      `SELECT id, status FROM reservations WHERE reference = $1`,
      [reference],
    );
    expect(reservation.status).toBe('failed');
    // The owner, running again, acts on what reached it while stopped (the hold may land now) and
    // on the coordinator's releases: every hold of the reservation ends released, and the
    // coordinator knows it.
    const holdsAtOwner = (): Promise<{ id: string; status: string }[]> =>
      rowsOf('eu-west', `SELECT id, status FROM holds WHERE reservation_id = $1 ORDER BY id`, [reservation.id]);
    await waitFor(
      async () => {
        const holds = await holdsAtOwner();
        const open = await rowsOf(
          'us-east',
          `SELECT 1 FROM reservation_allocations WHERE reservation_id = $1 AND state IN ('intent', 'held')`,
          [reservation.id],
        );
        return holds.length > 0 && holds.every((h) => h.status === 'released') && open.length === 0 ? true : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'every hold of the reservation to be released',
        describe: async () => JSON.stringify(await holdsAtOwner()),
      },
    );
    for (const w of ['fra-1', 'fra-2']) {
      expect((await call(at('eu-west'), 'GET', `/v1/warehouses/${w}/stock/SKU-DL`)).body).toMatchObject({ onHand: 1, reserved: 0 });
    }
    // And the units are for sale again: the same cart is held now.
    await waitFor(
      async () =>
        (await call<{ available: number }>(at('us-east'), 'GET', '/v1/availability/SKU-DL')).body.available === 2 ? true : undefined,
      { timeoutMs: 60_000, what: 'us-east to see the two units available again' },
    );
    const again = await call(at('us-east'), 'POST', '/v1/reservations', {
      body: { lines: [{ sku: 'SKU-DL', quantity: 2 }] },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(again.status).toBe(201);
  }, 120_000);
});
