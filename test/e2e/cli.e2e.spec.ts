import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TOPICS } from '@stockmesh/contracts';
import { shardOf } from '@stockmesh/sharding';
import { call, registerWarehouses, startTestCluster, TEST_ADMIN_KEY, testKafka, waitFor, type TestCluster } from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { formatStatusLine, readRegionStatus } from '../../infra/cluster/status-lines.js';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

// The `stockmesh` command line, as an operator runs it (the built entry, a child process), against
// three region processes: what it prints is checked against what the API answers.
let t: TestCluster;
const CLI = resolve('dist/apps/cli/src/main.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function stockmesh(args: readonly string[], options: { region?: string; key?: string } = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, '--url', t.url(options.region ?? 'us-east'), ...args],
      { env: { ...process.env, STOCKMESH_API_KEY: options.key ?? TEST_ADMIN_KEY }, timeout: 30_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function json<T>(args: readonly string[], options: { region?: string; key?: string } = {}): Promise<T> {
  const run = await stockmesh(['--json', ...args], options);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  return JSON.parse(run.stdout) as T;
}

beforeAll(async () => {
  t = await startTestCluster('cli');
  await registerWarehouses(t, { 'cli-nyc': 'us-east', 'cli-fra': 'eu-west' });
}, 120_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

describe('the stockmesh command line', () => {
  it('shows every region ready, with lag, in status', async () => {
    const run = await stockmesh(['status']);
    expect(run.code).toBe(0);
    for (const region of ['us-east (this)', 'eu-west', 'ap-south'])
      expect(run.stdout).toMatch(new RegExp(`^${region.replace(/[()]/g, '\\$&')}\\s+ready`, 'm'));
    const cluster = await json<{ region: string; regions: { region: string; health: string }[] }>(['status'], { region: 'ap-south' });
    expect(cluster.region).toBe('ap-south');
    expect(cluster.regions.map((r) => [r.region, r.health]).sort()).toEqual([
      ['ap-south', 'ready'],
      ['eu-west', 'ready'],
      ['us-east', 'ready'],
    ]);
  });

  it('counts, adjusts and reads stock at its owner from another region, as the API has it', async () => {
    const set = await stockmesh(['stock', 'set', 'cli-fra', 'SKU-CLI', '12']);
    expect(set.code).toBe(0);
    // warehouse, sku, on hand, reserved, safety stock, available, version
    expect(set.stdout).toMatch(/^cli-fra\s+SKU-CLI\s+12\s+0\s+0\s+12\s+1$/m);
    const key = /idempotency key (\S+)/.exec(set.stderr)?.[1];
    expect(key).toBeDefined();
    // The same key again: the first answer, not a second write.
    const again = await json<{ version: number }>(['stock', 'set', 'cli-fra', 'SKU-CLI', '12', '--idempotency-key', key!]);
    expect(again.version).toBe(1);
    const adjusted = await json<{ onHand: number; version: number }>(
      ['stock', 'adjust', 'cli-fra', 'SKU-CLI', '-2', '--reason', 'damaged'],
      {
        region: 'ap-south',
      },
    );
    expect(adjusted).toMatchObject({ onHand: 10, version: 2 });
    const api = await call<{ onHand: number; version: number }>({ url: t.url('eu-west') }, 'GET', '/v1/warehouses/cli-fra/stock/SKU-CLI');
    expect(await json(['stock', 'get', 'cli-fra', 'SKU-CLI'], { region: 'eu-west' })).toEqual(api.body);
    const availability = await waitFor(
      async () => {
        const a = await json<{ available: number }>(['availability', 'SKU-CLI']);
        return a.available === 10 ? a : undefined;
      },
      { what: 'us-east to see the count' },
    );
    expect(availability).toMatchObject({ sku: 'SKU-CLI', onHand: 10, reserved: 0 });
    const warehouses = await stockmesh(['warehouses']);
    expect(warehouses.stdout).toMatch(/^cli-fra\s+eu-west/m);
    // The row's settings without a count: on hand stays.
    const settings = await json<{ onHand: number; safetyStock: number; lowStockThreshold: number; available: number }>([
      'stock',
      'set',
      'cli-fra',
      'SKU-CLI',
      '--safety-stock',
      '2',
      '--low-stock-threshold',
      '3',
    ]);
    expect(settings).toMatchObject({ onHand: 10, safetyStock: 2, lowStockThreshold: 3, available: 8 });
    const nothing = await stockmesh(['stock', 'set', 'cli-fra', 'SKU-CLI']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('needs <onHand>');
  });

  it('announces, receives and cancels incoming stock at the owner, and availability promises it by day', async () => {
    const announced = await stockmesh(['stock', 'incoming', 'cli-fra', 'SKU-IN', 'po-77', '8', '2026-12-24'], { region: 'us-east' });
    expect(announced.code).toBe(0);
    expect(announced.stdout).toMatch(/^po-77\s+2026-12-24\s+8$/m);
    await json(['stock', 'incoming', 'cli-fra', 'SKU-IN', 'po-78', '5', '2027-01-10']);
    const received = await json<{ onHand: number; incoming: unknown[] }>(['stock', 'receive', 'cli-fra', 'SKU-IN', 'po-77', '3']);
    expect(received).toMatchObject({
      onHand: 3,
      incoming: [
        { receiptId: 'po-77', quantity: 5 },
        { receiptId: 'po-78', quantity: 5 },
      ],
    });
    const closed = await json<{ onHand: number; incoming: unknown[] }>(['stock', 'receive', 'cli-fra', 'SKU-IN', 'po-77', '1', '--close']);
    expect(closed).toMatchObject({ onHand: 4, incoming: [{ receiptId: 'po-78', quantity: 5, expectedAt: '2027-01-10' }] });
    const shown = await waitFor(
      async () => {
        const a = await stockmesh(['availability', 'SKU-IN'], { region: 'ap-south' });
        return a.stdout.includes('incoming 2027-01-10: 5 expected, 9 can be promised by then') ? a : undefined;
      },
      { what: 'ap-south to promise the incoming units' },
    );
    expect(shown.code).toBe(0);
    const cancelled = await json<{ incoming: unknown[] }>(['stock', 'cancel-incoming', 'cli-fra', 'SKU-IN', 'po-78'], {
      region: 'eu-west',
    });
    expect(cancelled.incoming).toEqual([]);
    // Cancelled already: the region's refusal, and exit 1.
    const twice = await stockmesh(['stock', 'cancel-incoming', 'cli-fra', 'SKU-IN', 'po-78']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('incoming-not-found');
  });

  it('reserves a cart and commits it', async () => {
    await json(['stock', 'set', 'cli-nyc', 'SKU-CART', '5']);
    const made = await stockmesh(['reserve', 'SKU-CART:2@cli-nyc', '--reference', 'cli-order-1']);
    expect(made.code).toBe(0);
    const id = /^reservation (\S+): held/m.exec(made.stdout)?.[1];
    expect(id).toBeDefined();
    // sku, warehouse, region, quantity, backordered, state
    expect(made.stdout).toMatch(/^SKU-CART\s+cli-nyc\s+us-east\s+2\s+0\s+held$/m);
    expect(await json<{ status: string }>(['reservation', 'get', id!])).toMatchObject({ status: 'held' });
    expect(await json<{ status: string }>(['reservation', 'commit', id!])).toMatchObject({ status: 'committed' });
    expect(await json(['stock', 'get', 'cli-nyc', 'SKU-CART'])).toMatchObject({ onHand: 3, reserved: 0 });
    // 3 on hand, 4 more expected: 5 can be held only as a backorder (2 of them out of the receipt).
    await json(['stock', 'incoming', 'cli-nyc', 'SKU-CART', 'po-cli', '4', '2027-02-01']);
    const short = await stockmesh(['reserve', 'SKU-CART:5@cli-nyc']);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('insufficient-stock');
    const backorder = await stockmesh(['reserve', 'SKU-CART:5@cli-nyc', '--allow-backorder']);
    expect(backorder.code).toBe(0);
    expect(backorder.stdout).toMatch(/^SKU-CART\s+cli-nyc\s+us-east\s+5\s+2\s+held$/m);
    expect(await json(['stock', 'get', 'cli-nyc', 'SKU-CART'])).toMatchObject({ onHand: 3, reserved: 3, backordered: 2 });
  });

  it('sends units to another region, reads the transfer and cannot cancel it once received', async () => {
    await json(['stock', 'set', 'cli-nyc', 'SKU-MOVE', '9']);
    await json(['stock', 'set', 'cli-fra', 'SKU-MOVE', '0']);
    const sent = await stockmesh(['transfer', 'send', 'SKU-MOVE', '4', '--from', 'cli-nyc', '--to', 'cli-fra'], { region: 'eu-west' });
    expect(sent.code).toBe(0);
    const id = /^transfer (\S+): pending/m.exec(sent.stdout)?.[1];
    expect(id).toBeDefined();
    expect(sent.stdout).toMatch(/^SKU-MOVE\s+4\s+cli-nyc \(us-east\)\s+cli-fra \(eu-west\)$/m);
    expect(sent.stderr).toMatch(/idempotency key \S+/);
    const received = await waitFor(
      async () => {
        const t = await json<{ status: string }>(['transfer', 'get', id!]);
        return t.status === 'completed' ? t : undefined;
      },
      { what: 'eu-west to receive the transfer' },
    );
    const api = await call<Record<string, unknown>>({ url: t.url('us-east') }, 'GET', `/v1/transfers/${id}`);
    expect(received).toEqual(api.body);
    expect(await json(['stock', 'get', 'cli-fra', 'SKU-MOVE'])).toMatchObject({ onHand: 4 });
    const late = await stockmesh(['transfer', 'cancel', id!]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/^stockmesh: 409 /m);
    // us-east sent it: its list has it, newest first; eu-west's has none of its own.
    const listed = await stockmesh(['transfers', 'list', '--status', 'completed', '--limit', '5']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[1]).toMatch(
      new RegExp(`^${id!.replace('.', '\\.')}\\s+completed\\s+SKU-MOVE\\s+4\\s+cli-nyc\\s+cli-fra \\(eu-west\\)`),
    );
    expect(await json<{ items: unknown[] }>(['transfers', 'list'], { region: 'eu-west' })).toMatchObject({
      items: [],
      servedBy: 'eu-west',
    });
    expect((await stockmesh(['transfers', 'list', '--status', 'lost'])).code).toBe(2);
  });

  it('lists a poison record among the dead letters, refuses to replay it, and rebuilds the replicas', async () => {
    // A record that is not an event, on the catalog topic, as only the broker's admin could write it.
    const kafka = new Kafka({ ...testKafka('admin'), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: t.topicPrefix + TOPICS.catalog, messages: [{ key: 'cli-poison', value: 'not an event' }] });
    } finally {
      await producer.disconnect();
    }
    const letter = await waitFor(
      async () => {
        const list = await json<{ items: { id: string; topic: string; key: string; consumer: string }[] }>(['dead-letters', 'list']);
        return list.items.find((l) => l.key === 'cli-poison');
      },
      { what: 'us-east to dead-letter the record' },
    );
    expect(letter).toMatchObject({ topic: TOPICS.catalog, consumer: 'stockmesh.replica.us-east' });
    const table = await stockmesh(['dead-letters', 'list', '--limit', '10']);
    expect(table.stdout).toMatch(
      new RegExp(`^${letter.id}\\s+stockmesh\\.replica\\.us-east\\s+${TOPICS.catalog.replace(/\./g, '\\.')}/0@\\d+`, 'm'),
    );
    const replay = await stockmesh(['dead-letters', 'replay', letter.id]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(/^stockmesh: 422 dead-letter-replay-refused: /m);

    // npm start's status line says so too.
    const status = await readRegionStatus({ id: 'us-east', url: t.url('us-east') }, TEST_ADMIN_KEY);
    expect(status).toMatchObject({ ready: true, outboxPending: expect.any(Number), deadLetters: expect.any(Number) });
    expect(status.deadLetters).toBeGreaterThanOrEqual(1);
    expect(formatStatusLine(status)).toMatch(
      /^us-east {2}ready {2}lag (eu-west|ap-south) (\d+ ms|stale), (eu-west|ap-south) (\d+ ms|stale) {2}outbox \d+ {2}dead letters [1-9]/,
    );

    const rebuilt = await stockmesh(['replicas', 'rebuild', '--region', 'eu-west'], { region: 'ap-south' });
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/^ap-south\s+eu-west\s+16\s+\d+\s+0\s+\d+$/m);
  });

  it('defines a sales channel, reads availability and reserves for it, and binds a key to it', async () => {
    await call({ url: t.url('eu-west') }, 'PUT', '/v1/warehouses/cli-fra/stock/SKU-CH', { body: { onHand: 5 } });
    await call({ url: t.url('us-east') }, 'PUT', '/v1/warehouses/cli-nyc/stock/SKU-CH', { body: { onHand: 50 } });
    const defined = await stockmesh(['channels', 'define', 'cli-web', '--region', 'eu-west', '--name', 'Web', '--warehouses', 'cli-fra']);
    expect(defined.code).toBe(0);
    expect(defined.stdout).toMatch(/^cli-web\s+eu-west\s+Web\s+cli-fra\s+1$/m);
    // us-east coordinates below: it must know the channel and see cli-fra's row.
    await waitFor(
      async () => {
        const run = await stockmesh(['availability', 'SKU-CH', '--channel', 'cli-web']);
        return run.code === 0 && /^total of channel cli-web: 5 on hand/m.test(run.stdout) ? true : undefined;
      },
      { what: 'us-east to know the channel and the row' },
    );
    expect((await stockmesh(['channels', 'list'])).stdout).toMatch(/^cli-web\s+eu-west/m);
    const held = await stockmesh(['reserve', 'SKU-CH:2', '--channel', 'cli-web']);
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/^reservation \S+: held, channel cli-web,/m);
    expect(held.stdout).toMatch(/^SKU-CH\s+cli-fra\s+eu-west\s+2\s+0\s+held$/m);
    const bound = await stockmesh(['keys', 'create', 'cli-web-store', '--scopes', 'stock:read', '--channel', 'cli-web']);
    expect(bound.code).toBe(0);
    expect(bound.stderr).toContain('bound to channel cli-web');
    const seen = await stockmesh(['availability', 'SKU-CH'], { key: bound.stdout.trim() });
    expect(seen.stdout).toMatch(/^total of channel cli-web: 5 on hand, 2 reserved/m);
  });

  it('moves shards to another database of a region while replication goes on, and back', async () => {
    // A SKU of shard 12-15, counted by its owner in two regions; us-east holds eu-west's row as a replica.
    const sku = Array.from({ length: 200 }, (_, i) => `SKU-MV-${i}`).find((s) => shardOf(s, 16) >= 12)!;
    await call({ url: t.url('us-east') }, 'PUT', `/v1/warehouses/cli-nyc/stock/${sku}`, { body: { onHand: 7 } });
    await call({ url: t.url('eu-west') }, 'PUT', `/v1/warehouses/cli-fra/stock/${sku}`, { body: { onHand: 3 } });
    const seen = (region: string, onHand: number) =>
      waitFor(
        async () => {
          const a = await json<{ onHand: number }>(['availability', sku], { region });
          return a.onHand === onHand ? true : undefined;
        },
        { what: `${region} to see ${onHand} on hand of ${sku}` },
      );
    await seen('us-east', 10);

    const list = await stockmesh(['shards', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^us-east\s+us-east\/0\s+0-7\s+0$/m);
    expect(list.stdout).toMatch(/^us-east\s+us-east\/1\s+8-15\s+0$/m);

    const moved = await stockmesh(['shards', 'move', '12-15', '--to', 'us-east/0']);
    expect({ code: moved.code, stderr: moved.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // shards, from, to, rounds, rows copied, pause ms, map version, ms
    expect(moved.stdout).toMatch(/^12-15\s+us-east\/1\s+us-east\/0\s+\d+\s+[1-9]\d*\s+\d+\s+1\s+\d+$/m);
    const map = await json<{ version: number; databases: { name: string; shards: number[] }[] }>(['shards', 'list']);
    expect(map).toMatchObject({
      version: 1,
      databases: [
        { name: 'us-east/0', shards: [0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15] },
        { name: 'us-east/1', shards: [8, 9, 10, 11] },
      ],
    });
    // Both ways of replication go on where the shard lives now: eu-west's change reaches us-east's
    // replica, us-east's own change (its outbox there) reaches eu-west.
    await call({ url: t.url('eu-west') }, 'POST', `/v1/warehouses/cli-fra/stock/${sku}/adjustments`, {
      body: { delta: 2, reason: 'found' },
    });
    await call({ url: t.url('us-east') }, 'POST', `/v1/warehouses/cli-nyc/stock/${sku}/adjustments`, {
      body: { delta: 1, reason: 'found' },
    });
    await seen('us-east', 13);
    await seen('eu-west', 13);

    const back = await json<{ from: string; to: string; mapVersion: number }>(['shards', 'move', '12-15', '--to', 'us-east/1']);
    expect(back).toMatchObject({ from: 'us-east/0', to: 'us-east/1', mapVersion: 2 });
    await call({ url: t.url('eu-west') }, 'POST', `/v1/warehouses/cli-fra/stock/${sku}/adjustments`, {
      body: { delta: 1, reason: 'found' },
    });
    await seen('us-east', 14);
    const refused = await stockmesh(['shards', 'move', '0', '--to', 'us-east/1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^stockmesh: 400 validation-failed: /m);
  });

  it('lists the benchmarks and runs one from the build, refusing unknown names and settings', async () => {
    const list = await stockmesh(['bench', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^cycle-count\s+three regions\s+/m);
    // The one benchmark that starts nothing: its table, nothing asserted about its figures.
    const run = await stockmesh(['bench', 'run', 'parse', '--set', 'BENCH_EVENTS=500']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\s+parseEvent \(headers, JSON, fast path\)\s+\S+ µs/m);
    expect(run.stderr).toContain('bench: 500 stock.changed records');
    expect((await stockmesh(['bench', 'run', 'nope'])).code).toBe(2);
    expect((await stockmesh(['bench', 'run', 'parse', '--set', 'DATABASE_URL=x'])).code).toBe(2);
  });

  it('makes, uses and revokes a key; says what a region refused and exits 1; a usage error exits 2', async () => {
    const made = await stockmesh(['keys', 'create', 'cli-storefront', '--scopes', 'stock:read']);
    expect(made.code).toBe(0);
    const secret = made.stdout.trim();
    expect(secret).toMatch(/^smk_[0-9a-f]{16}_\S+$/);
    const id = secret.split('_')[1];
    expect(made.stderr).toContain(`key ${id} (cli-storefront: stock:read)`);
    expect((await stockmesh(['availability', 'SKU-CLI'], { key: secret })).code).toBe(0);
    const refused = await stockmesh(['keys', 'list'], { key: secret });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^stockmesh: 403 insufficient-scope: .*admin scope/m);
    const listed = await stockmesh(['keys', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+cli-storefront\\s+stock:read\\s+-\\s+us-east`, 'm'));
    // The secret part is everything after `smk_<id>_` (base64url: it may hold '_' itself, even first).
    expect(listed.stdout).not.toContain(secret.slice(`smk_${id}_`.length));
    expect((await stockmesh(['keys', 'revoke', id])).stdout).toBe(`key ${id} revoked\n`);
    await waitFor(
      async () => ((await stockmesh(['availability', 'SKU-CLI'], { key: secret, region: 'eu-west' })).code === 1 ? true : undefined),
      {
        what: 'the revocation to reach eu-west',
      },
    );
    expect((await stockmesh(['availability', 'SKU-CLI'], { key: secret })).stderr).toMatch(/^stockmesh: 401 unauthenticated/m);
    const usage = await stockmesh(['stock', 'adjust', 'cli-fra', 'SKU-CLI', 'two', '--reason', 'damaged']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('not a whole number');
  });
});
