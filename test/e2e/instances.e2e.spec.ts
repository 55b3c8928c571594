import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  call,
  divergence,
  registerWarehouses,
  startTestCluster,
  TEST_ADMIN_KEY,
  TEST_CLUSTER_SECRET,
  waitFor,
  type Answer,
  type TestCluster,
} from '@stockmesh/testing';
import { shardOf } from '@stockmesh/sharding';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { REGION_ENTRY } from '../../infra/cluster/local-cluster.js';

// A region run as two instances (node:cluster workers sharing its ports and databases), one of
// them SIGKILLed under mixed load: what was acknowledged stays, exactly once, and the region goes
// on serving through the other instance while its primary forks a new one.
let t: TestCluster;
const REGIONS = ['us-east', 'eu-west'] as const;
/** nyc-1 is us-east's own stock; fra-1's writes are forwarded by us-east to its owner, eu-west. */
const OWNER: Record<string, string> = { 'nyc-1': 'us-east', 'fra-1': 'eu-west' };
const WAREHOUSES = Object.keys(OWNER);
const SKUS = ['INST-A', 'INST-B', 'INST-C', 'INST-D'];
const INITIAL = 10_000;
/** Clients running at once against us-east, each with at most one request in flight. */
const CLIENTS = 6;
/** Acknowledged operations before the kill, and again after it. */
const OPS_PER_PHASE = 45;

const us = (): { url: string } => ({ url: t.url('us-east') });
const rowKey = (warehouseId: string, sku: string): string => `${warehouseId}/${sku}`;

interface Movement {
  readonly kind: string;
  readonly delta: number;
  readonly onHandAfter: number;
  readonly reservedAfter: number;
  readonly version: number;
}

interface Stock {
  readonly onHand: number;
  readonly reserved: number;
  readonly version: number;
}

/** What the clients did and saw. */
const seen = {
  /** Attempts that got no HTTP answer (the connection died with the instance). */
  networkFailures: [] as string[],
  /** Final answers by operation and status, e.g. `adjust 201`. */
  statuses: new Map<string, number>(),
  /** Acknowledged adjustments per row: their deltas, each key counted once. */
  adjusted: new Map<string, number[]>(),
  reservations: [] as string[],
  acknowledged: 0,
};

/** us-east's processes: its primary (the pid the launcher started) and the primary's children. */
function workersOfUsEast(): number[] {
  const primary = t.cluster.pid('us-east');
  if (primary === undefined) throw new Error('us-east is not running');
  return readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Worker pids us-east's primary announced as serving (they listen on the region's port), from the log. */
function servingWorkers(): number[] {
  return readFileSync(t.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"instance serving"') && line.includes('"region":"us-east"'))
    .map((line) => (JSON.parse(line) as { workerPid: number }).workerPid);
}

/**
 * Sends a write to us-east as a careful client does: with its Idempotency-Key, again and again
 * with the same key while there is no answer (the instance died), the region sheds load (503) or
 * the first request with the key is still running. Returns the first final answer.
 */
async function send(op: string, method: 'PUT' | 'POST', path: string, body: unknown, key: string): Promise<Answer> {
  for (;;) {
    let answer: Answer;
    try {
      answer = await call(us(), method, path, { body, headers: { 'idempotency-key': key }, timeoutMs: 60_000 });
    } catch (error) {
      seen.networkFailures.push(`${op} ${path}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`);
      await sleep(50);
      continue;
    }
    if (answer.status === 503 || (answer.body as Record<string, unknown> | undefined)?.code === 'reservation-in-progress') {
      await sleep(100);
      continue;
    }
    const label = `${op} ${answer.status}`;
    seen.statuses.set(label, (seen.statuses.get(label) ?? 0) + 1);
    seen.acknowledged++;
    return answer;
  }
}

/** One client's mix, until `stop()`: adjustments, reservations that are committed, and ones that are released. */
async function client(n: number, stopped: () => boolean): Promise<void> {
  for (let i = 0; !stopped(); i++) {
    const warehouseId = WAREHOUSES[(n + i) % WAREHOUSES.length];
    const sku = SKUS[(n * 7 + i) % SKUS.length];
    if (i % 3 === 0) {
      const delta = 1 + ((n + i) % 5);
      const answer = await send(
        'adjust',
        'POST',
        `/v1/warehouses/${warehouseId}/stock/${sku}/adjustments`,
        { delta, reason: 'received' },
        randomUUID(),
      );
      if (answer.status === 201)
        seen.adjusted.set(rowKey(warehouseId, sku), [...(seen.adjusted.get(rowKey(warehouseId, sku)) ?? []), delta]);
      continue;
    }
    const made = await send('reserve', 'POST', '/v1/reservations', { lines: [{ sku, quantity: 1, warehouseId }] }, randomUUID());
    // A 409 is a reservation whose coordinator was the killed instance: the survivor failed it.
    if (made.status !== 201) continue;
    const id = made.body.id as string;
    seen.reservations.push(id);
    await send(
      i % 3 === 1 ? 'commit' : 'release',
      'POST',
      `/v1/reservations/${id}/${i % 3 === 1 ? 'commit' : 'release'}`,
      undefined,
      randomUUID(),
    );
  }
}

async function movementsOf(warehouseId: string, sku: string): Promise<Movement[]> {
  const all: Movement[] = [];
  let before: string | null = null;
  do {
    const query: string = before === null ? '?limit=500' : `?limit=500&before=${before}`;
    const page = await call<{ items: Movement[]; nextBefore: string | null }>(
      { url: t.url(OWNER[warehouseId]) },
      'GET',
      `/v1/warehouses/${warehouseId}/stock/${sku}/movements${query}`,
    );
    expect(page.status).toBe(200);
    all.push(...page.body.items);
    before = page.body.nextBefore;
  } while (before !== null);
  return all.sort((a, b) => a.version - b.version);
}

/** A query on each of a region's databases, results concatenated. */
async function everyDatabase<T extends pg.QueryResultRow>(regionId: string, sql: string): Promise<T[]> {
  const region = t.cluster.config.regions.find((r) => r.id === regionId)!;
  const rows: T[] = [];
  for (const db of region.databases) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      rows.push(...(await client.query<T>(sql)).rows);
    } finally {
      await client.end();
    }
  }
  return rows;
}

/**
 * Once the clients have stopped: every reservation ends and nothing stays held; each owner's
 * ledger is gap-free and holds each acknowledged change once; the outboxes drain and every
 * replica reaches its owner's row.
 */
async function expectEveryChangeOnce(): Promise<void> {
  // Every reservation ends (those the killed instance coordinated too): nothing stays reserved.
  const finished = ['committed', 'released', 'expired', 'commit-failed'];
  await waitFor(
    async () => {
      for (const id of seen.reservations) {
        const r = await call<{ status: string }>(us(), 'GET', `/v1/reservations/${id}`);
        if (!finished.includes(r.body.status)) return undefined;
      }
      return true;
    },
    { timeoutMs: 60_000, what: 'every reservation to end' },
  );
  const committed = new Map<string, number>();
  for (const id of seen.reservations) {
    const r = await call<{
      allocations: { warehouseId: string; sku: string; quantity: number; state: string; committedQuantity?: number }[];
    }>(us(), 'GET', `/v1/reservations/${id}`);
    for (const a of r.body.allocations) {
      if (a.state === 'committed')
        committed.set(
          rowKey(a.warehouseId, a.sku),
          (committed.get(rowKey(a.warehouseId, a.sku)) ?? 0) + (a.committedQuantity ?? a.quantity),
        );
    }
  }
  await waitFor(
    async () => {
      const held = await Promise.all(
        REGIONS.map((r) => everyDatabase<{ n: string }>(r, `SELECT count(*) AS n FROM holds WHERE status = 'held'`)),
      );
      return held.flat().every((row) => Number(row.n) === 0) ? true : undefined;
    },
    { timeoutMs: 60_000, what: 'every hold to end at its owner' },
  );

  // The owners' ledgers: gap-free, consistent with on-hand, each acknowledged change once.
  for (const warehouseId of WAREHOUSES) {
    for (const sku of SKUS) {
      const key = rowKey(warehouseId, sku);
      const row = (await call<Stock>({ url: t.url(OWNER[warehouseId]) }, 'GET', `/v1/warehouses/${warehouseId}/stock/${sku}`)).body;
      const movements = await movementsOf(warehouseId, sku);
      expect(movements.map((m) => m.version)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
      for (let i = 1; i < movements.length; i++) {
        expect([key, movements[i].version, movements[i].onHandAfter]).toEqual([
          key,
          movements[i].version,
          movements[i - 1].onHandAfter + movements[i].delta,
        ]);
      }
      const last = movements[movements.length - 1];
      expect([last.onHandAfter, last.reservedAfter]).toEqual([row.onHand, row.reserved]);
      expect(row.reserved).toBe(0);
      const adjustments = movements.filter((m) => m.kind === 'adjustment').map((m) => m.delta);
      expect([key, adjustments.length, sum(adjustments)]).toEqual([
        key,
        (seen.adjusted.get(key) ?? []).length,
        sum(seen.adjusted.get(key) ?? []),
      ]);
      const commits = sum(movements.filter((m) => m.kind === 'commit').map((m) => -m.delta));
      expect([key, commits]).toEqual([key, committed.get(key) ?? 0]);
      expect([key, row.onHand]).toEqual([key, INITIAL + sum(seen.adjusted.get(key) ?? []) - commits]);
    }
  }

  // The outboxes drain (the survivor took over publishing), and each region's replicas reach the owner's rows.
  await waitFor(
    async () => {
      const pending = await everyDatabase<{ n: string }>('us-east', 'SELECT count(*) AS n FROM outbox');
      return pending.every((row) => Number(row.n) === 0) ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'us-east’s outboxes to drain' },
  );
  let diff: string[] = [];
  await waitFor(async () => ((diff = await divergence(t.cluster.regions, SKUS)).length === 0 ? true : undefined), {
    timeoutMs: 60_000,
    what: 'every replica to match its owner',
    describe: async () => diff.slice(0, 10).join('; '),
  });
}

beforeAll(async () => {
  t = await startTestCluster(
    'inst',
    { STOCKMESH_REGIONS: REGIONS.join(','), STOCKMESH_HEARTBEAT_MS: '500' },
    { regionEnv: { 'us-east': { STOCKMESH_INSTANCES: '2' } } },
  );
  await registerWarehouses(t, OWNER);
  for (const warehouseId of WAREHOUSES) {
    for (const sku of SKUS) {
      const answer = await call({ url: t.url(OWNER[warehouseId]) }, 'PUT', `/v1/warehouses/${warehouseId}/stock/${sku}`, {
        body: { onHand: INITIAL },
      });
      expect(answer.status).toBe(200);
    }
  }
  // The launcher waits for one instance to answer; the test needs both serving.
  await waitFor(async () => (servingWorkers().length >= 2 ? true : undefined), {
    timeoutMs: 60_000,
    what: 'both us-east instances to serve',
  });
}, 180_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('a region of two instances', () => {
  it('answers two in-flight requests with one Idempotency-Key, spread over its instances, with one change', async () => {
    const path = `/v1/warehouses/nyc-1/stock/${SKUS[0]}/adjustments`;
    const requestIds: string[][] = [];
    for (let pair = 0; pair < 8; pair++) {
      const key = randomUUID();
      const ids = [randomUUID(), randomUUID()];
      requestIds.push(ids);
      const answers = await Promise.all(
        ids.map((id) => postOnNewConnection(path, { delta: 1, reason: 'found' }, { 'idempotency-key': key, 'x-request-id': id })),
      );
      expect(answers.map((a) => a.status)).toEqual([201, 201]);
      // The same first answer twice: one made the change, the other replayed it.
      expect((answers[0].body.movement as { id: string }).id).toBe((answers[1].body.movement as { id: string }).id);
      expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(1);
      seen.adjusted.set(rowKey('nyc-1', SKUS[0]), [...(seen.adjusted.get(rowKey('nyc-1', SKUS[0])) ?? []), 1]);
    }
    // The instance that served each request, from its log line (the reqId is the X-Request-Id sent):
    // some pairs had their two requests on different instances, so the key held across processes.
    const servedBy = await waitFor(async () => {
      const byRequest = new Map<string, string>();
      for (const line of readFileSync(t.logFile, 'utf8').split('\n')) {
        if (!line.includes('"request completed"')) continue;
        const entry = JSON.parse(line) as { reqId?: string; instance?: string };
        if (entry.reqId !== undefined && entry.instance !== undefined) byRequest.set(entry.reqId, entry.instance);
      }
      return requestIds.flat().every((id) => byRequest.has(id)) ? byRequest : undefined;
    });
    const split = requestIds.filter(([a, b]) => servedBy.get(a) !== servedBy.get(b));
    expect(split.length).toBeGreaterThan(0);
  });

  it('loses only the killed instance’s in-flight requests, applies nothing twice, and keeps serving', async () => {
    const started = Date.now();
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n, () => stop));
    try {
      await waitFor(async () => (seen.acknowledged >= OPS_PER_PHASE ? true : undefined), {
        timeoutMs: 60_000,
        what: `${OPS_PER_PHASE} acknowledged operations`,
      });
      const servingBefore = servingWorkers();
      const [victim] = workersOfUsEast();
      const failuresBefore = seen.networkFailures.length;
      process.kill(victim, 'SIGKILL');
      const ackedAtKill = seen.acknowledged;
      // Serving on: the same amount of work again, through the survivor (and the re-forked instance once it is up).
      await waitFor(async () => (seen.acknowledged >= ackedAtKill + OPS_PER_PHASE ? true : undefined), {
        timeoutMs: 60_000,
        what: `${OPS_PER_PHASE} more acknowledged operations after the kill`,
        describe: async () => `${seen.acknowledged - ackedAtKill} so far; ${seen.networkFailures.length} network failures`,
      });
      // The primary forked a new instance in place of the killed one, without restarting the region.
      const replaced = await waitFor(async () => servingWorkers().find((pid) => !servingBefore.includes(pid)), {
        timeoutMs: 60_000,
        what: 'a new us-east instance in place of the killed one',
      });
      expect(workersOfUsEast()).toHaveLength(2);
      expect(workersOfUsEast()).toContain(replaced);
      expect(failuresBefore).toBe(0);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    // Each client has one request in flight at a time: at most one failure each (its connection died).
    expect(seen.networkFailures.length).toBeLessThanOrEqual(CLIENTS);
    // Every operation got a final answer; none was a server error.
    expect([...seen.statuses.keys()].filter((label) => Number(label.split(' ')[1]) >= 500)).toEqual([]);
    process.stdout.write(
      `instances e2e: ${seen.acknowledged} operations acknowledged in ${((Date.now() - started) / 1000).toFixed(1)} s, ${seen.networkFailures.length} attempts lost with the killed instance; answers ${JSON.stringify(Object.fromEntries(seen.statuses))}\n`,
    );

    await expectEveryChangeOnce();
  }, 240_000);

  it('moves shards between the region’s databases while both instances serve, and back: every change once', async () => {
    // INST-C's rows (nyc-1's own, fra-1's replica) live in shard 10, in us-east/1 with 8-15.
    expect(shardOf('INST-C', 16)).toBe(10);
    const shards = [8, 9, 10, 11, 12, 13, 14, 15];
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n, () => stop));
    try {
      for (const to of ['us-east/0', 'us-east/1']) {
        const acked = seen.acknowledged;
        await waitFor(async () => (seen.acknowledged >= acked + 20 ? true : undefined), { timeoutMs: 60_000, what: '20 operations' });
        const moved = await call<{ to: string; pauseMs: number }>(us(), 'POST', '/v1/cluster/shards/moves', {
          body: { shards, to },
          timeoutMs: 120_000,
        });
        expect({ status: moved.status, to: moved.body.to, detail: (moved.body as { detail?: string }).detail }).toEqual({
          status: 200,
          to,
          detail: undefined,
        });
        expect(moved.body.pauseMs).toBeLessThanOrEqual(2_000);
      }
      const acked = seen.acknowledged;
      await waitFor(async () => (seen.acknowledged >= acked + 20 ? true : undefined), { timeoutMs: 60_000, what: '20 more operations' });
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect([...seen.statuses.keys()].filter((label) => Number(label.split(' ')[1]) >= 500)).toEqual([]);
    // Every answer, whichever instance gives it, shows the map the moves left (read from the home database).
    const maps = await Promise.all(
      Array.from({ length: 8 }, () =>
        call<{ version: number; databases: { name: string; shards: number[] }[] }>(us(), 'GET', '/v1/cluster/shards'),
      ),
    );
    for (const map of maps) expect(map.body).toMatchObject({ version: 2, databases: [{ shards: [0, 1, 2, 3, 4, 5, 6, 7] }, { shards }] });
    await expectEveryChangeOnce();
  }, 240_000);
});

describe('a region of two instances that cannot start', () => {
  it('stops with its instances’ exit code instead of forking them again and again', async () => {
    const port = 20_000 + Math.floor(Math.random() * 8_000);
    const child = spawn(process.execPath, [REGION_ENTRY], {
      env: {
        ...process.env,
        STOCKMESH_REGION: 'us-east',
        STOCKMESH_INSTANCES: '2',
        STOCKMESH_REPLICATION: 'false',
        STOCKMESH_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
        // Nothing listens there: every instance fails to open its pools.
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres',
        STOCKMESH_BASE_PORT: String(port),
        STOCKMESH_INTERNAL_BASE_PORT: String(port - 8_000),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect({ code, output }).toEqual({ code: 1, output: expect.stringContaining('an instance failed to start; stopping the region') });
  }, 60_000);
});

/**
 * A POST on a connection of its own (fetch would reuse a pooled one, which may lead to the same
 * instance every time): the primary hands each new connection to the next instance.
 */
async function postOnNewConnection(path: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${t.url('us-east')}${path}`,
      {
        method: 'POST',
        agent: false,
        headers: {
          ...headers,
          authorization: `Bearer ${TEST_ADMIN_KEY}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, String(v)])),
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    request.once('error', reject);
    request.end(payload);
  });
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
