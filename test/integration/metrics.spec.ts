import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TOPICS } from '@stockmesh/contracts';
import {
  call,
  parseExposition,
  startTestRegion,
  testKafka,
  throwawayPrefix,
  waitFor,
  type Exposition,
  type TestRegion,
} from '@stockmesh/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { ShardDatabases } from '@stockmesh/persistence';
import { MetricsEndpoint } from '../../apps/region/src/metrics/metrics-endpoint.js';

// One region on the real PostgreSQL and the shared broker: what it does shows in the Prometheus
// metrics of its internal listener (no signature needed for GET /metrics), and nowhere public.
let region: TestRegion;
const prefix = `${throwawayPrefix('metrics').replace(/_/g, '-')}.`;
const W = 'met-1';

async function scrape(base: string): Promise<{ status: number; contentType: string; metrics: Exposition }> {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', metrics: parseExposition(text) };
}

beforeAll(async () => {
  region = await startTestRegion('metrics', {
    STOCKMESH_REPLICATION: 'true',
    KAFKA_BROKERS: testKafka().brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_MAX_WAIT_MS: '100',
  });
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await region?.close();
}, 30_000);

describe('Prometheus metrics of a region', () => {
  it('count a stock write and reservations, and parse as the text exposition format', async () => {
    const before = (await scrape(region.internalUrl)).metrics;
    expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-M`, { body: { onHand: 5 } })).status).toBe(200);
    const reserve = (quantity: number): Promise<{ status: number }> =>
      call(region, 'POST', '/v1/reservations', {
        // No split: a refused hold is not asked again for what the warehouse has.
        body: { lines: [{ sku: 'SKU-M', quantity, warehouseId: W }], allowSplit: false },
        headers: { 'idempotency-key': randomUUID() },
      });
    expect((await reserve(2)).status).toBe(201);
    expect((await reserve(99)).status).toBe(409);

    const { status, contentType, metrics } = await scrape(region.internalUrl);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const moved = (name: string, labels: Record<string, string>): number => metrics.sum(name, labels) - before.sum(name, labels);
    // Requests by route template, never by URL (no SKU in any label).
    const write = { listener: 'public', method: 'PUT', route: '/v1/warehouses/:warehouseId/stock/:sku', status: '200' };
    expect(moved('stockmesh_http_requests_total', write)).toBe(1);
    expect(metrics.samples.some((s) => Object.values(s.labels).some((v) => v.includes('SKU-M')))).toBe(false);
    expect(metrics.types.get('stockmesh_http_request_duration_seconds')).toBe('histogram');
    expect(moved('stockmesh_http_request_duration_seconds_count', { listener: 'public', route: '/v1/reservations' })).toBe(2);
    expect(moved('stockmesh_reservations_total', { outcome: 'held' })).toBe(1);
    expect(moved('stockmesh_reservations_total', { outcome: 'insufficient_stock' })).toBe(1);
    expect(moved('stockmesh_holds_total', { transition: 'placed' })).toBe(1);
    expect(moved('stockmesh_saga_steps_total', { step: 'place', owner: 'local', outcome: 'done' })).toBe(1);
    expect(moved('stockmesh_saga_steps_total', { step: 'place', owner: 'local', outcome: 'insufficient' })).toBe(1);
    // Read at scrape time, per database of the region.
    for (const db of region.config.region.databases) {
      expect(metrics.find('stockmesh_outbox_pending_events', { database: db.name })).toHaveLength(1);
      expect(metrics.sum('stockmesh_db_pool_connections', { database: db.name, state: 'total' })).toBeGreaterThan(0);
      expect(metrics.find('stockmesh_db_pool_waiting_requests', { database: db.name })).toHaveLength(1);
    }
    for (const source of ['eu-west', 'ap-south']) {
      expect(metrics.find('stockmesh_replication_lag_events', { source_region: source })).toHaveLength(1);
      expect(metrics.find('stockmesh_replication_lag_seconds', { source_region: source })).toHaveLength(1);
    }
    // prom-client's process metrics, and every series says which region it is from.
    expect(metrics.sum('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(metrics.sum('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.samples.every((s) => s.labels.region === 'us-east')).toBe(true);
    expect(metrics.sum('stockmesh_metrics_collector_failures_total')).toBe(0);
  });

  it('show the relay publishing the outbox to the broker', async () => {
    expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-PUB`, { body: { onHand: 1 } })).status).toBe(200);
    const metrics = await waitFor(
      async () => {
        const m = (await scrape(region.internalUrl)).metrics;
        return m.sum('stockmesh_outbox_events_published_total') > 0 && m.sum('stockmesh_outbox_pending_events') === 0 ? m : undefined;
      },
      { what: 'the outbox to be published' },
    );
    expect(metrics.sum('stockmesh_outbox_publish_duration_seconds_count')).toBeGreaterThan(0);
  });

  it('count a record the replicator dead-letters', async () => {
    // A region that starts without replicas takes the live topic from its end at that moment (the
    // compacted state topic has every row's latest state): a record produced before that is never
    // read. Right after the broker created the topics, the replicator took over 30 s to get there
    // in two CI runs, and the record went unread. So: produce once shard 0 has its position.
    await waitFor(
      async () => {
        const rows = await region.app
          .get(ShardDatabases)
          .read(region.config.shardMap.databaseFor(0), (tx) =>
            tx.query(`SELECT 1 FROM consumer_positions WHERE topic = $1 AND partition = 0`, [TOPICS.stock]),
          );
        return rows.length === 1 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the replicator to store where it starts reading shard 0' },
    );
    const kafka = new Kafka({ ...testKafka(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: prefix + TOPICS.stock, messages: [{ partition: 0, key: 'x', value: 'not an event' }] });
    } finally {
      await producer.disconnect();
    }
    const counted = async (): Promise<number> =>
      (await scrape(region.internalUrl)).metrics.sum('stockmesh_dead_letters_total', { consumer: 'replica', reason: 'invalid_event' });
    // Exactly once, even if a pass over the batch rolled back and was read again.
    await waitFor(async () => ((await counted()) === 1 ? true : undefined), {
      what: 'the dead letter to be counted once',
      describe: async () => {
        const metrics = (await scrape(region.internalUrl)).metrics;
        const read = metrics.find('stockmesh_kafka_consumer_lag_messages').map((s) => `${s.labels.topic}/${s.labels.partition}`);
        return `${await counted()} counted; partitions the replicator has read a batch of: ${read.join(' ') || 'none'}`;
      },
    });
  }, 150_000);

  it('are served on the internal listener only: a 404 on the public one, signatures still required for anything else', async () => {
    const metricsOnPublic = await fetch(`${region.url}/metrics`);
    expect(metricsOnPublic.status).toBe(404);
    expect(await metricsOnPublic.text()).not.toContain('stockmesh_');
    const unsigned = await fetch(`${region.internalUrl}/metrics`, { method: 'POST' });
    expect(unsigned.status).toBe(401);
  });

  it('are also served on a port of their own, which serves nothing else', async () => {
    const endpoint = region.app.get(MetricsEndpoint);
    await endpoint.listen(0, '127.0.0.1');
    const { status, metrics } = await scrape(endpoint.url());
    expect(status).toBe(200);
    expect(metrics.sum('stockmesh_http_requests_total')).toBeGreaterThan(0);
    expect((await fetch(`${endpoint.url()}/v1/warehouses/${W}/stock/SKU-M`)).status).toBe(404);
  });
});
