import { describe, expect, it } from '@jest/globals';
import { Metrics } from './metrics.js';

/** The value of the series of `name` whose labels include `labels`; undefined without one. */
async function valueOf(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('Metrics', () => {
  it('keeps a registry per instance, so regions in one process count apart', async () => {
    const a = new Metrics({ region: 'us-east' });
    const b = new Metrics({ region: 'eu-west' });
    a.reservation('held');
    a.reservation('held');
    expect(await valueOf(a, 'stockmesh_reservations_total', { outcome: 'held' })).toBe(2);
    expect(await valueOf(b, 'stockmesh_reservations_total', { outcome: 'held' })).toBeUndefined();
    expect(await a.exposition()).toContain('stockmesh_reservations_total{outcome="held",region="us-east"} 2');
  });

  it('runs the collectors on each exposition, and a failing one costs only its own figures', async () => {
    const metrics = new Metrics();
    let pending = 3;
    metrics.addCollector(() => metrics.outboxPending.set({ database: 'us-east/0' }, pending));
    metrics.addCollector(async () => {
      throw new Error('database down');
    });
    expect(await metrics.exposition()).toContain('stockmesh_outbox_pending_events{database="us-east/0"} 3');
    pending = 0;
    const text = await metrics.exposition();
    expect(text).toContain('stockmesh_outbox_pending_events{database="us-east/0"} 0');
    expect(text).toContain('stockmesh_metrics_collector_failures_total 2');
  });

  it('times and counts saga steps by outcome, and outbox batches only when they published', async () => {
    const metrics = new Metrics();
    metrics.sagaStep('place', 'remote')('unavailable');
    metrics.sagaStep('place', 'local')('done');
    metrics.outboxBatch('us-east/0')(0);
    metrics.outboxBatch('us-east/0')(5);
    expect(await valueOf(metrics, 'stockmesh_saga_steps_total', { step: 'place', owner: 'remote', outcome: 'unavailable' })).toBe(1);
    expect(await valueOf(metrics, 'stockmesh_saga_step_duration_seconds', { step: 'place', owner: 'local' })).toBeGreaterThanOrEqual(0);
    expect(await valueOf(metrics, 'stockmesh_outbox_events_published_total', { database: 'us-east/0' })).toBe(5);
    expect(await metrics.exposition()).toContain('stockmesh_outbox_publish_duration_seconds_count{database="us-east/0"} 1');
  });

  it('counts applied events per source region and keeps the consumer lag at zero or more', async () => {
    const metrics = new Metrics();
    metrics.applied('stockmesh.stock.v1', ['eu-west', 'ap-south', 'eu-west']);
    metrics.consumerLag('stockmesh.stock.v1', 3, '10', '7');
    metrics.consumerLag('stockmesh.stock.v1', 4, '10', '12');
    expect(await valueOf(metrics, 'stockmesh_replication_events_applied_total', { source_region: 'eu-west' })).toBe(2);
    expect(await valueOf(metrics, 'stockmesh_kafka_consumer_lag_messages', { partition: '3' })).toBe(3);
    expect(await valueOf(metrics, 'stockmesh_kafka_consumer_lag_messages', { partition: '4' })).toBe(0);
  });
});
