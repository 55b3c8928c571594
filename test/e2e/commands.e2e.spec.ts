import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestCluster, testKafka, waitFor, type TestCluster } from '@stockmesh/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type IHeaders, type Producer } from 'kafkajs';

// Other systems send commands on Kafka to three regions running as real processes.
let t: TestCluster;
let kafka: Kafka;
let producer: Producer;
const consumers: Consumer[] = [];
const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
const at = (id: string): { url: string } => ({ url: t.url(id) });

interface Seen {
  readonly key: string | null;
  readonly headers: Record<string, string>;
  readonly value: string | null;
}
interface Result {
  readonly type: string;
  readonly source: string;
  readonly data: {
    commandId: string;
    region: string;
    replayed?: boolean;
    result?: Record<string, unknown>;
    problem?: { code: string; detail: string };
  };
}
const results: Seen[] = [];
const deadLetters: Seen[] = [];

const text = (headers: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(Array.isArray(value) ? value[0] : value)]));

/** Follows a topic of this cluster from its start into `into`. */
async function follow(topic: string, into: Seen[]): Promise<void> {
  const consumer = kafka.consumer({ groupId: `${t.topicPrefix}test.${randomUUID()}`, maxWaitTimeInMs: 50 });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic: t.topicPrefix + topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      into.push({ key: message.key?.toString() ?? null, headers: text(message.headers), value: message.value?.toString() ?? null });
    },
  });
}

/** Sends one command in CloudEvents binary content mode; `value` is sent as it is when it is a string. */
async function send(
  type: string,
  data: unknown,
  options: { id?: string; key?: string; headers?: Record<string, string> } = {},
): Promise<string> {
  const id = options.id ?? randomUUID();
  await producer.send({
    topic: `${t.topicPrefix}stockmesh.commands.v1`,
    messages: [
      {
        key: options.key ?? null,
        value: typeof data === 'string' ? data : JSON.stringify(data),
        headers: {
          ce_specversion: '1.0',
          ce_id: id,
          ce_source: 'wms-test',
          ce_type: type,
          'content-type': 'application/json',
          ...options.headers,
        },
      },
    ],
  });
  return id;
}

const resultsOf = (id: string): Result[] =>
  results
    .filter((r) => r.key === id)
    .map((r) => ({ type: r.headers.ce_type, source: r.headers.ce_source, data: JSON.parse(r.value ?? 'null') as Result['data'] }));

/** Waits for `count` results of command `id`. */
async function awaitResults(id: string, count = 1): Promise<Result[]> {
  return waitFor(async () => (resultsOf(id).length >= count ? resultsOf(id) : undefined), {
    what: `${count} result(s) of command ${id}`,
    timeoutMs: 30_000,
    describe: async () => JSON.stringify(resultsOf(id)),
  });
}

const row = async (region: string, warehouse: string, sku: string): Promise<Record<string, unknown>> =>
  (await call(at(region), 'GET', `/v1/warehouses/${warehouse}/stock/${sku}`)).body;

const ADJUST = 'io.stockmesh.stock.adjust.v1';
const COMMIT = 'io.stockmesh.reservation.commit.v1';
const RELEASE = 'io.stockmesh.reservation.release.v1';

beforeAll(async () => {
  t = await startTestCluster('cmds');
  for (const [id, region] of [
    ['fra-1', 'eu-west'],
    ['nyc-1', 'us-east'],
  ]) {
    expect((await call(at(region), 'PUT', `/v1/warehouses/${id}`, { body: { region, name: id } })).status).toBe(201);
  }
  // Until a region's catalog knows a warehouse, that region dead-letters commands for it.
  for (const region of REGIONS) {
    await waitFor(
      async () => ((await call<{ items: unknown[] }>(at(region), 'GET', '/v1/warehouses')).body.items.length === 2 ? true : undefined),
      { what: `${region} to know both warehouses` },
    );
  }
  kafka = new Kafka({ ...testKafka(), clientId: 'commands-e2e', logLevel: logLevel.NOTHING });
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(async () => ((await admin.listTopics()).includes(`${t.topicPrefix}stockmesh.command-results.v1`) ? true : undefined), {
      what: 'the regions to create the command topics',
    });
  } finally {
    await admin.disconnect();
  }
  await follow('stockmesh.command-results.v1', results);
  await follow('stockmesh.dead-letter.v1', deadLetters);
}, 120_000);

afterAll(async () => {
  for (const consumer of consumers) await consumer.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await t?.close();
}, 60_000);

describe('commands from other systems through Kafka', () => {
  it('applies a stock adjustment once at the owner, even when it is sent twice with the same id', async () => {
    const id = randomUUID();
    const adjustment = { warehouseId: 'fra-1', sku: 'SKU-C1', delta: 24, reason: 'received' };
    await send(ADJUST, adjustment, { id, key: 'fra-1' });
    await send(ADJUST, { reason: 'received', delta: 24, sku: 'SKU-C1', warehouseId: 'fra-1' }, { id, key: 'fra-1' });

    const [first, second] = await awaitResults(id, 2);
    for (const result of [first, second]) {
      expect(result).toMatchObject({ type: 'io.stockmesh.command.completed.v1', source: 'eu-west' });
      expect(result.data).toMatchObject({ commandId: id, region: 'eu-west' });
      expect(result.data.result).toMatchObject({ warehouseId: 'fra-1', sku: 'SKU-C1', onHand: 24, version: 1 });
    }
    expect([first.data.replayed, second.data.replayed]).toEqual([false, true]);
    expect(await row('eu-west', 'fra-1', 'SKU-C1')).toMatchObject({ onHand: 24, version: 1 });
    const ledger = await call<{ items: { delta: number; actor: string }[] }>(
      at('eu-west'),
      'GET',
      '/v1/warehouses/fra-1/stock/SKU-C1/movements',
    );
    // One entry; the command id (its idempotency key) belongs to the sender and is not shown in the ledger.
    expect(ledger.body.items).toEqual([expect.objectContaining({ delta: 24, actor: 'wms-test' })]);
    expect(ledger.body.items[0]).not.toHaveProperty('idempotencyKey');

    // The same id with other content is refused, and changes nothing.
    await send(ADJUST, { ...adjustment, delta: 25 }, { id, key: 'fra-1' });
    const reused = (await awaitResults(id, 3))[2];
    expect(reused).toMatchObject({ type: 'io.stockmesh.command.rejected.v1', source: 'eu-west' });
    expect(reused.data.problem).toMatchObject({ code: 'command-id-reused' });

    // The change reaches the other regions' replicas like any other.
    await waitFor(
      async () => {
        const view = await call<{ warehouses: { warehouseId: string; onHand: number }[] }>(
          at('ap-south'),
          'GET',
          '/v1/availability/SKU-C1',
        );
        return view.body.warehouses.some((w) => w.warehouseId === 'fra-1' && w.onHand === 24) ? true : undefined;
      },
      { what: 'ap-south to see the adjustment' },
    );
    expect(await row('eu-west', 'fra-1', 'SKU-C1')).toMatchObject({ onHand: 24, version: 1 });
    expect(resultsOf(id)).toHaveLength(3);
  }, 90_000);

  it("continues the sender's trace: the stock event the command causes carries its ce_traceparent trace id", async () => {
    const stockEvents: Seen[] = [];
    await follow('stockmesh.stock.v1', stockEvents);
    const traceId = randomBytes(16).toString('hex');
    const id = await send(
      ADJUST,
      { warehouseId: 'nyc-1', sku: 'SKU-TRACE', delta: 3, reason: 'received' },
      { key: 'nyc-1', headers: { ce_traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } },
    );
    expect((await awaitResults(id, 1))[0]).toMatchObject({ type: 'io.stockmesh.command.completed.v1' });
    const event = await waitFor(async () => stockEvents.find((e) => e.headers.ce_subject === 'warehouses/nyc-1/stock/SKU-TRACE'), {
      what: 'the stock event of the command',
    });
    expect(event.headers.ce_traceparent?.split('-').slice(0, 2)).toEqual(['00', traceId]);
  }, 90_000);

  it('answers a refused adjustment with its problem details', async () => {
    const id = await send(ADJUST, { warehouseId: 'fra-1', sku: 'SKU-C1', delta: -1000, reason: 'lost' }, { key: 'fra-1' });
    const [result] = await awaitResults(id);
    expect(result).toMatchObject({ type: 'io.stockmesh.command.rejected.v1', source: 'eu-west' });
    expect(result.data.problem).toMatchObject({ code: 'insufficient-stock', status: 409 });
    expect(result.data.problem?.detail).toMatch(/below zero/);
    expect(await row('eu-west', 'fra-1', 'SKU-C1')).toMatchObject({ onHand: 24, version: 1 });
  }, 60_000);

  it('commits and releases reservations at their coordinating region', async () => {
    expect((await call(at('us-east'), 'PUT', '/v1/warehouses/nyc-1/stock/SKU-C2', { body: { onHand: 10 } })).status).toBe(200);
    const reserve = (quantity: number) =>
      call<{ id: string; status: string }>(at('us-east'), 'POST', '/v1/reservations', {
        body: { lines: [{ sku: 'SKU-C2', quantity, warehouseId: 'nyc-1' }] },
        headers: { 'idempotency-key': randomUUID() },
      });
    const toCommit = await reserve(3);
    const toRelease = await reserve(4);
    expect([toCommit.status, toRelease.status]).toEqual([201, 201]);
    expect(await row('us-east', 'nyc-1', 'SKU-C2')).toMatchObject({ onHand: 10, reserved: 7 });

    const commit = await send(COMMIT, { reservationId: toCommit.body.id }, { key: toCommit.body.id });
    const release = await send(RELEASE, { reservationId: toRelease.body.id }, { key: toRelease.body.id });
    const [committed] = await awaitResults(commit);
    const [released] = await awaitResults(release);
    expect(committed).toMatchObject({ type: 'io.stockmesh.command.completed.v1', source: 'us-east' });
    expect(committed.data.result).toMatchObject({ id: toCommit.body.id, status: 'committed' });
    expect(released).toMatchObject({ type: 'io.stockmesh.command.completed.v1', source: 'us-east' });
    expect(released.data.result).toMatchObject({ id: toRelease.body.id, status: 'released' });
    await waitFor(async () => ((await row('us-east', 'nyc-1', 'SKU-C2')).reserved === 0 ? true : undefined), {
      what: 'the holds to be committed and released',
    });
    expect(await row('us-east', 'nyc-1', 'SKU-C2')).toMatchObject({ onHand: 7, reserved: 0, available: 7 });

    // Releasing the committed reservation is refused, as over HTTP.
    const late = await send(RELEASE, { reservationId: toCommit.body.id }, { key: toCommit.body.id });
    const [refused] = await awaitResults(late);
    expect(refused).toMatchObject({ type: 'io.stockmesh.command.rejected.v1', source: 'us-east' });
    expect(refused.data.problem).toMatchObject({ code: 'reservation-conflict' });
  }, 90_000);

  it('dead-letters invalid commands with the reason, and keeps applying later ones', async () => {
    const bad = {
      json: await send(ADJUST, '{"warehouseId": "fra-1", "delta": ', { key: 'fra-1' }),
      type: await send('io.stockmesh.stock.steal.v1', { warehouseId: 'fra-1', sku: 'SKU-C3', delta: 1, reason: 'received' }),
      delta: await send(ADJUST, { warehouseId: 'fra-1', sku: 'SKU-C3', delta: -2.5, reason: 'lost' }, { key: 'fra-1' }),
      field: await send(ADJUST, { warehouseId: 'fra-1', sku: 'SKU-C3', delta: 2, reason: 'received', lot: 'L-7' }, { key: 'fra-1' }),
      owner: await send(ADJUST, { warehouseId: 'nowhere-1', sku: 'SKU-C3', delta: 2, reason: 'received' }),
    };
    const later = await send(ADJUST, { warehouseId: 'fra-1', sku: 'SKU-C3', delta: 5, reason: 'found' }, { key: 'fra-1' });
    const [applied] = await awaitResults(later);
    expect(applied).toMatchObject({ type: 'io.stockmesh.command.completed.v1', source: 'eu-west' });
    expect(await row('eu-west', 'fra-1', 'SKU-C3')).toMatchObject({ onHand: 5, version: 1 });

    // Every region reads every command, so each dead-letters each invalid one once.
    const lettersOf = (id: string): Seen[] => deadLetters.filter((d) => d.headers.ce_id === id);
    await waitFor(async () => (Object.values(bad).every((id) => lettersOf(id).length >= 3) ? true : undefined), {
      what: 'three dead letters of each invalid command',
      describe: async () => JSON.stringify(deadLetters.map((d) => [d.headers.ce_id, d.headers.dlt_consumer, d.headers.dlt_reason])),
    });
    const expected: Record<keyof typeof bad, RegExp> = {
      json: /data is not JSON/,
      type: /unknown command type "io.stockmesh.stock.steal.v1"/,
      delta: /delta fails isInt/,
      field: /lot fails whitelistValidation/,
      owner: /warehouse nowhere-1 is not in the catalog/,
    };
    for (const [name, id] of Object.entries(bad) as [keyof typeof bad, string][]) {
      const letters = lettersOf(id);
      expect(letters.map((l) => l.headers.dlt_consumer).sort()).toEqual(REGIONS.map((r) => `stockmesh.commands.${r}`).sort());
      for (const letter of letters) {
        expect(letter.headers).toMatchObject({ dlt_topic: 'stockmesh.commands.v1', ce_source: 'wms-test' });
        expect(letter.headers.dlt_reason).toMatch(expected[name]);
      }
      expect(resultsOf(id)).toEqual([]);
    }
    // The dead letter carries the refused value as it came.
    expect(lettersOf(bad.json)[0].value).toBe('{"warehouseId": "fra-1", "delta": ');
  }, 90_000);
});
