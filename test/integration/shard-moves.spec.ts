import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultCluster, withDatabase, type ClusterConfig } from '@stockmesh/config';
import { ShardDatabases, ShardMover } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import {
  call,
  startPostgresServer,
  startTestRegion,
  testDatabaseUrl,
  throwawayPrefix,
  type PostgresServer,
  type TestRegion,
} from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

// A region whose shards 8-15 live in us-east/1 on the machine's PostgreSQL, with a spare database
// us-east/2 on a second PostgreSQL server this suite starts itself. Shards move there and back
// while clients write and reserve, through the region's own API.
const W = 'nyc-1';
const SHARDS = 16;
const SKUS = Array.from({ length: 48 }, (_, i) => `MOVE-${i}`);
const ON_HAND = 1_000;
const MOVED = [8, 9, 10, 11, 12, 13, 14, 15];

let second: PostgresServer;
let region: TestRegion;
let cluster: ClusterConfig;
let folder: string;

const url = (name: string): string => {
  const db = cluster.regions[0]!.databases.find((d) => d.name === name);
  if (!db) throw new Error(`no database ${name}`);
  return db.url;
};

/** Whether the fence's triggers are on in the database (off while it fences no shard: they cost nothing then). */
async function fencing(name: string): Promise<boolean> {
  const [row] = await query<{ on: boolean }>(
    name,
    `SELECT bool_and(tgenabled <> 'D') AS on FROM pg_trigger WHERE tgname LIKE '%\\_shard\\_fence'`,
  );
  return row!.on;
}

async function query<T>(name: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url(name) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  second = await startPostgresServer();
  const prefix = throwawayPrefix('moves');
  const base = defaultCluster({
    regions: ['us-east', 'eu-west', 'ap-south'],
    shardCount: SHARDS,
    databasesPerRegion: 2,
    host: '127.0.0.1',
    basePort: 3000,
    databaseUrl: testDatabaseUrl(),
    databasePrefix: prefix,
  });
  const [east, ...others] = base.regions;
  cluster = {
    ...base,
    regions: [
      { ...east!, databases: [...east!.databases, { name: 'us-east/2', url: withDatabase(second.url, `${prefix}_us_east_2`) }] },
      ...others,
    ],
  };
  folder = mkdtempSync(join(tmpdir(), 'stockmesh-moves-'));
  const file = join(folder, 'cluster.json');
  writeFileSync(file, JSON.stringify(cluster));
  region = await startTestRegion('moves', { STOCKMESH_CLUSTER_FILE: file });
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: 'New York 1' } })).status).toBe(201);
  for (const sku of SKUS) {
    expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/${sku}`, { body: { onHand: ON_HAND } })).status).toBe(200);
  }
  // Both sides of the move hold SKUs.
  expect(SKUS.filter((sku) => shardOf(sku, SHARDS) >= 8).length).toBeGreaterThan(10);
  expect(SKUS.filter((sku) => shardOf(sku, SHARDS) < 8).length).toBeGreaterThan(10);
}, 120_000);

afterAll(async () => {
  await region?.close();
  await second?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** A client that writes as storefronts and warehouses do: an Idempotency-Key per write, asked again while answered 503. */
class Load {
  readonly adjusted = new Map<string, number>();
  readonly reserved = new Map<string, number>();
  readonly failures: string[] = [];
  busy = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(clients: number) {
    this.loops = Array.from({ length: clients }, (_, i) => this.loop(i));
  }

  private async loop(i: number): Promise<void> {
    for (let n = 0; this.running; n++) {
      const sku = SKUS[(i * 7 + n * 13) % SKUS.length]!;
      const key = randomUUID();
      const reserve = n % 3 === 0;
      for (let attempt = 0; ; attempt++) {
        const answer = reserve
          ? await call(region, 'POST', '/v1/reservations', {
              body: { lines: [{ sku, quantity: 1, warehouseId: W }], ttlSeconds: 600 },
              headers: { 'idempotency-key': key },
            })
          : await call(region, 'POST', `/v1/warehouses/${W}/stock/${sku}/adjustments`, {
              body: { delta: 1, reason: 'received' },
              headers: { 'idempotency-key': key },
            });
        if (answer.status === 503 && attempt < 50) {
          this.busy++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        const ok = reserve
          ? answer.status === 201 && (answer.body as { status?: string }).status === 'held'
          : answer.status === 200 || answer.status === 201;
        if (!ok)
          this.failures.push(`${reserve ? 'reserve' : 'adjust'} ${sku}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
        else if (reserve) this.reserved.set(sku, (this.reserved.get(sku) ?? 0) + 1);
        else this.adjusted.set(sku, (this.adjusted.get(sku) ?? 0) + 1);
        break;
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** Moves shards 8-15 to the spare database and back, checking each move's report and the map. */
async function moveOutAndBack(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const out = await call<{ pauseMs: number; rounds: number; rowsCopied: number; from: string; to: string; mapVersion: number }>(
    region,
    'POST',
    '/v1/cluster/shards/moves',
    { body: { shards: MOVED, to: 'us-east/2' }, timeoutMs: 120_000 },
  );
  if (out.status !== 200) throw new Error(JSON.stringify(out.body));
  expect(out.body).toMatchObject({ from: 'us-east/1', to: 'us-east/2', mapVersion: 1 });
  expect(out.body.rowsCopied).toBeGreaterThan(0);
  expect(out.body.pauseMs).toBeLessThanOrEqual(2_000);

  const map = await call<{ version: number; databases: { name: string; shards: number[] }[] }>(region, 'GET', '/v1/cluster/shards');
  expect(map.body.version).toBe(1);
  expect(map.body.databases).toEqual([
    { name: 'us-east/0', shards: [0, 1, 2, 3, 4, 5, 6, 7] },
    { name: 'us-east/1', shards: [] },
    { name: 'us-east/2', shards: MOVED },
  ]);
  // The old copy is gone, its fence stays: an instance still routing by the old map cannot write there.
  expect(await query('us-east/1', `SELECT 1 FROM stock WHERE shard = ANY($1)`, [MOVED])).toEqual([]);
  expect({ old: await fencing('us-east/1'), new: await fencing('us-east/2'), untouched: await fencing('us-east/0') }).toEqual({
    old: true,
    new: false,
    untouched: false,
  });
  const moved = SKUS.find((sku) => shardOf(sku, SHARDS) >= 8)!;
  await expect(
    query(
      'us-east/1',
      `INSERT INTO stock (warehouse_id, sku, shard, region, on_hand, version, updated_at) VALUES ($1, $2, $3, 'us-east', 1, 1, now())`,
      [W, moved, shardOf(moved, SHARDS)],
    ),
  ).rejects.toMatchObject({ code: 'SMF01' });
  // A hold (here a release tombstone) names no shard, and its stock row is gone from there: the SKU's hash fences it.
  await expect(
    query(
      'us-east/1',
      `INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status) VALUES ('h.1', 'r', $1, $2, 0, 'released')`,
      [W, moved],
    ),
  ).rejects.toMatchObject({ code: 'SMF01' });

  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const back = await call<{ pauseMs: number; from: string; to: string; mapVersion: number }>(region, 'POST', '/v1/cluster/shards/moves', {
    body: { shards: MOVED, to: 'us-east/1' },
    timeoutMs: 120_000,
  });
  if (back.status !== 200) throw new Error(JSON.stringify(back.body));
  expect(back.body).toMatchObject({ from: 'us-east/2', to: 'us-east/1', mapVersion: 2 });
  expect(back.body.pauseMs).toBeLessThanOrEqual(2_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
}

describe('online shard moves', () => {
  it('moves half the region’s shards to another server under load and back: every acknowledged write lands once, the pause stays within 2 s', async () => {
    const load = new Load(6);
    try {
      await moveOutAndBack();
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect([...load.adjusted.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    expect([...load.reserved.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    // Every acknowledged write is there once, and nothing else is: the rows, and the ledger's adjustments.
    for (const sku of SKUS) {
      const row = await call<{ onHand: number; reserved: number }>(region, 'GET', `/v1/warehouses/${W}/stock/${sku}`);
      expect({ sku, onHand: row.body.onHand, reserved: row.body.reserved }).toEqual({
        sku,
        onHand: ON_HAND + (load.adjusted.get(sku) ?? 0),
        reserved: load.reserved.get(sku) ?? 0,
      });
    }
    const where = (name: string) =>
      query<{ sku: string; n: number }>(name, `SELECT sku, count(*)::int AS n FROM stock_movements WHERE kind = 'adjustment' GROUP BY sku`);
    const ledger = new Map([...(await where('us-east/0')), ...(await where('us-east/1'))].map((r) => [r.sku, r.n]));
    for (const sku of SKUS) expect({ sku, adjustments: ledger.get(sku) ?? 0 }).toEqual({ sku, adjustments: load.adjusted.get(sku) ?? 0 });
    // Back home: the spare holds nothing of the shards, and takes no write of theirs.
    expect(await query('us-east/2', `SELECT 1 FROM stock`)).toEqual([]);
    expect(await query('us-east/2', `SELECT shard, state FROM shard_fence ORDER BY shard`)).toEqual(
      MOVED.map((shard) => ({ shard, state: 'moved' })),
    );
    expect(await query('us-east/1', `SELECT shard FROM shard_fence`)).toEqual([]);
    expect({ home: await fencing('us-east/1'), spare: await fencing('us-east/2') }).toEqual({ home: false, spare: true });
  }, 240_000);

  it('hashes a SKU to its shard in SQL exactly as the regions do (the fence of holds and receipts uses it)', async () => {
    const skus = [
      ...Array.from({ length: 300 }, (_, i) => `SKU-${i}-${'x'.repeat(i % 9)}`),
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'Käse-Ω-😀',
      'ü'.repeat(37),
    ];
    for (const count of [16, 7, 1024]) {
      const rows = await query<{ sku: string; shard: number }>(
        'us-east/0',
        `SELECT sku, stockmesh_shard_of(sku, $2) AS shard FROM unnest($1::text[]) AS sku`,
        [skus, count],
      );
      expect(rows.map((r) => [r.sku, r.shard])).toEqual(skus.map((sku) => [sku, shardOf(sku, count)]));
    }
  });

  it('undoes a move that stopped before its switch, so its shards take writes again', async () => {
    // What a process that died while frozen leaves: the move's row, the old database's fence, the
    // new one's copy and fence.
    const id = randomUUID();
    await query(
      'us-east/0',
      `INSERT INTO shard_moves (id, shards, source, target, state) VALUES ($1, '{12}', 'us-east/1', 'us-east/2', 'frozen')`,
      [id],
    );
    await query('us-east/1', `INSERT INTO shard_fence (shard, state, move_id, shard_count) VALUES (12, 'frozen', $1, 16)`, [id]);
    for (const table of ['stock', 'stock_replica', 'transfers', 'holds', 'transfer_receipts', 'consumer_positions']) {
      await query('us-east/1', `ALTER TABLE ${table} ENABLE TRIGGER ${table}_shard_fence`);
    }
    await query('us-east/2', `UPDATE shard_fence SET state = 'incoming', move_id = $1 WHERE shard = 12`, [id]);
    const sku = SKUS.find((s) => shardOf(s, SHARDS) === 12)!;
    const refused = await call(region, 'POST', `/v1/warehouses/${W}/stock/${sku}/adjustments`, { body: { delta: 1, reason: 'received' } });
    expect(refused).toMatchObject({ status: 503, body: { code: 'busy' } });

    expect(await new ShardMover(region.app.get(ShardDatabases)).recover()).toBe(true);
    expect(await query('us-east/0', `SELECT state FROM shard_moves WHERE id = $1`, [id])).toEqual([{ state: 'aborted' }]);
    expect(await query('us-east/1', `SELECT shard FROM shard_fence`)).toEqual([]);
    expect(await fencing('us-east/1')).toBe(false);
    expect(await query('us-east/2', `SELECT state FROM shard_fence WHERE shard = 12`)).toEqual([{ state: 'moved' }]);
    const taken = await call(region, 'POST', `/v1/warehouses/${W}/stock/${sku}/adjustments`, { body: { delta: 1, reason: 'received' } });
    expect(taken.status).toBe(201);
    expect(await new ShardMover(region.app.get(ShardDatabases)).recover()).toBe(false);
  }, 30_000);

  it('refuses a move it cannot make, and changes nothing', async () => {
    const before = await call<{ version: string }>(region, 'GET', '/v1/cluster/shards');
    const zero = await call(region, 'POST', '/v1/cluster/shards/moves', { body: { shards: [0], to: 'us-east/2' } });
    expect(zero.status).toBe(400);
    const unknown = await call(region, 'POST', '/v1/cluster/shards/moves', { body: { shards: [9], to: 'us-east/7' } });
    expect(unknown.status).toBe(409);
    expect(unknown.body).toMatchObject({ code: 'shard-move-conflict' });
    const there = await call(region, 'POST', '/v1/cluster/shards/moves', { body: { shards: [9], to: 'us-east/1' } });
    expect(there.body).toMatchObject({ code: 'shard-move-conflict' });
    const split = await call(region, 'POST', '/v1/cluster/shards/moves', { body: { shards: [7, 8], to: 'us-east/2' } });
    expect(split.body).toMatchObject({ code: 'shard-move-conflict' });
    const map = await call(region, 'GET', '/v1/cluster/shards');
    expect(map.body).toEqual(before.body);
  });
});
