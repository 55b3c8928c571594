import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withTrace } from '@stockmesh/http';
import { ShardDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { HoldService, type HoldView } from '@stockmesh/stock';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';

// Group-committed holds at the owner, on the real PostgreSQL: many places of one database at once
// go through a few transactions, and the answers, rows, holds, ledger and events are exactly what
// placing them one by one gives. The places are fired all at once from this process, as the
// owner's internal API and the local coordinator do under load.
let region: TestRegion;
const W = 'gc-1';

const reservationId = (): string => `us-east.${randomUUID()}`;

type Settled = { ok: true; view: HoldView } | { ok: false; code: string; available?: number };

/** Places a hold as a request of its own would (with its own trace, `traceId`), and says what became of it. */
async function place(
  sku: string,
  quantity: number,
  holdId = `${reservationId()}/1`,
  traceId = randomBytes(16).toString('hex'),
): Promise<Settled> {
  const holds = region.app.get(HoldService);
  try {
    const view = await withTrace(holdId, `00-${traceId}-${randomBytes(8).toString('hex')}-01`, () =>
      holds.place({ holdId, reservationId: holdId.split('/')[0]!, warehouseId: W, sku, quantity, ttlSeconds: 600 }),
    );
    return { ok: true, view };
  } catch (error) {
    const e = error as { code: string; extensions?: { available?: number } };
    return { ok: false, code: e.code, available: e.extensions?.available };
  }
}

/** A connection of its own to the database hosting `sku`'s shard. */
async function databaseOf(sku: string): Promise<pg.Client> {
  const db = region.app.get(ShardDatabases).databaseFor(shardOf(sku, region.config.cluster.shardCount));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return client;
}

async function stockRow(sku: string): Promise<{ onHand: number; reserved: number; version: number }> {
  const answer = await call<{ onHand: number; reserved: number; version: number }>(region, 'GET', `/v1/warehouses/${W}/stock/${sku}`);
  return answer.body;
}

beforeAll(async () => {
  region = await startTestRegion('holdbatch', { STOCKMESH_HOLD_LOCK_TIMEOUT_MS: '30000' });
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
  for (const [sku, onHand] of [
    ['SKU-HOT', 300],
    ['SKU-DUP', 1_000],
    ['SKU-POISON', 100],
  ] as const)
    expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/${sku}`, { body: { onHand } })).status).toBe(200);
  for (let i = 0; i < 8; i++)
    expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-COLD-${i}`, { body: { onHand: 10 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await region?.close();
});

describe('group-committed holds', () => {
  it('holds exactly the units there are when 1,000 one-unit holds race for 300, and writes a ledger entry per hold', async () => {
    const before = await stockRow('SKU-HOT');
    const traces = Array.from({ length: 1_000 }, () => randomBytes(16).toString('hex'));
    const answers = await Promise.all(traces.map((traceId) => place('SKU-HOT', 1, undefined, traceId)));
    const held = answers.filter((a): a is Extract<Settled, { ok: true }> => a.ok);
    const refused = answers.filter((a) => !a.ok);
    expect(held).toHaveLength(300);
    expect(new Set(refused.map((a) => (a.ok ? 'held' : `${a.code}:${a.available}`)))).toEqual(new Set(['insufficient-stock:0']));
    // Each granted hold saw the row as if it had run alone: versions one apart, reserved 1..300.
    const versions = held.map((a) => a.view.stock!.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 300 }, (_, i) => before.version + 1 + i));
    expect(held.map((a) => a.view.stock!.reserved).sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(await stockRow('SKU-HOT')).toMatchObject({ onHand: 300, reserved: 300, available: 0, version: before.version + 300 });

    const db = await databaseOf('SKU-HOT');
    try {
      const holds = await db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM holds WHERE warehouse_id = $1 AND sku = 'SKU-HOT' GROUP BY status`,
        [W],
      );
      // Refused holds leave no row, so their ids may be placed again later.
      expect(holds.rows).toEqual([{ status: 'held', n: 300 }]);
      const ledger = await db.query<{ n: number; versions: number; actors: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT version)::int AS versions, count(DISTINCT actor)::int AS actors
           FROM stock_movements WHERE warehouse_id = $1 AND sku = 'SKU-HOT' AND kind = 'hold'`,
        [W],
      );
      expect(ledger.rows[0]).toEqual({ n: 300, versions: 300, actors: 300 });
      // Fewer events than holds: a batch publishes each row once, with its state after the batch;
      // the newest event carries the row's final version.
      const events = await db.query<{ version: number; traceparent: string | null }>(
        `SELECT (value::jsonb ->> 'version')::int AS version, headers ->> 'ce_traceparent' AS traceparent FROM outbox
          WHERE value::jsonb ->> 'sku' = 'SKU-HOT' AND value::jsonb -> 'cause' ->> 'kind' = 'hold' ORDER BY seq`,
      );
      // Each event carries the trace of the hold it ends with (the row's last hold in its batch),
      // never another request's.
      const traceOfVersion = new Map(answers.flatMap((a, i) => (a.ok ? [[a.view.stock!.version, traces[i]!] as const] : [])));
      for (const e of events.rows) expect(e.traceparent?.split('-')[1]).toBe(traceOfVersion.get(e.version));
      expect(events.rows.length).toBeGreaterThan(0);
      expect(events.rows.length).toBeLessThan(300);
      expect(events.rows.at(-1)?.version).toBe(before.version + 300);
      expect(events.rows.map((e) => e.version)).toEqual([...events.rows.map((e) => e.version)].sort((x, y) => x - y));
    } finally {
      await db.end();
    }
  });

  it('answers a hold placed twice at once as one hold, and holds spread over many rows and databases each once', async () => {
    const ids = Array.from({ length: 40 }, () => `${reservationId()}/1`);
    const cold = Array.from({ length: 8 }, (_, i) => `SKU-COLD-${i}`);
    const answers = await Promise.all([
      ...ids.flatMap((id) => [place('SKU-DUP', 2, id), place('SKU-DUP', 2, id)]),
      ...cold.flatMap((sku) => Array.from({ length: 12 }, () => place(sku, 1))),
    ]);
    const dup = answers.slice(0, 80);
    expect(dup.every((a) => a.ok && a.view.status === 'held' && a.view.quantity === 2)).toBe(true);
    expect(await stockRow('SKU-DUP')).toMatchObject({ onHand: 1_000, reserved: 80 });
    const coldAnswers = answers.slice(80);
    expect(coldAnswers.filter((a) => a.ok)).toHaveLength(80);
    for (const sku of cold) expect(await stockRow(sku)).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
  });

  it('tries the holds of a failing batch again one by one: one bad hold fails alone, the others are held', async () => {
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => place('SKU-POISON', 1)),
      // More units than a bigint holds: PostgreSQL refuses the batch's INSERT.
      place('SKU-POISON', 2 ** 70),
      ...Array.from({ length: 20 }, () => place('SKU-POISON', 1)),
    ]);
    expect(answers.filter((a) => a.ok)).toHaveLength(40);
    expect(answers[20]).toMatchObject({ ok: false });
    expect(await stockRow('SKU-POISON')).toMatchObject({ onHand: 100, reserved: 40 });
  });
});
