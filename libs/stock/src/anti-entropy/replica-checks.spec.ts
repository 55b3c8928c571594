import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '@stockmesh/config';
import { Metrics } from '@stockmesh/metrics';
import { ReplicaChecks } from './replica-checks.js';

const config = {
  region: { id: 'us-east' },
  cluster: { regions: [{ id: 'us-east' }, { id: 'eu-west' }, { id: 'ap-south' }] },
} as unknown as AppConfig;

function checks(): { checks: ReplicaChecks; metrics: Metrics; tick(ms: number): void } {
  let now = Date.parse('2026-12-01T10:00:00.000Z');
  const metrics = new Metrics();
  return { checks: new ReplicaChecks(config, { now: () => now }, metrics), metrics, tick: (ms) => (now += ms) };
}

/** The value of one series of a counter, 0 when it has none yet. */
async function valueOf(metrics: Metrics, name: string, sourceRegion: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => v.labels.source_region === sourceRegion)?.value ?? 0;
}

describe('ReplicaChecks', () => {
  it('counts checks, repairs and gaps per source region, with their times', () => {
    const { checks: c, tick } = checks();
    expect(c.of('eu-west')).toMatchObject({ lastCheckAt: null, lastRepairAt: null, rowsRepaired: 0 });
    c.compared('eu-west', 60, 0);
    tick(1_000);
    c.repaired('eu-west', 0);
    expect(c.of('eu-west').lastRepairAt).toBeNull();
    c.repaired('eu-west', 3);
    c.gapRepaired('eu-west');
    expect(c.all()).toEqual([
      {
        region: 'eu-west',
        lastCheckAt: '2026-12-01T10:00:00.000Z',
        digestsCompared: 1,
        bucketsCompared: 60,
        bucketsDiffered: 0,
        repairs: 2,
        rowsRepaired: 3,
        lastRepairAt: '2026-12-01T10:00:01.000Z',
        gapsRepaired: 1,
      },
      expect.objectContaining({ region: 'ap-south', digestsCompared: 0 }),
    ]);
  });

  it('moves the Prometheus counters of the source region', async () => {
    const { checks: c, metrics } = checks();
    c.compared('eu-west', 60, 2);
    c.compared('eu-west', 58, 0);
    c.repaired('eu-west', 3);
    expect(await valueOf(metrics, 'stockmesh_anti_entropy_checks_total', 'eu-west')).toBe(2);
    expect(await valueOf(metrics, 'stockmesh_anti_entropy_buckets_compared_total', 'eu-west')).toBe(118);
    expect(await valueOf(metrics, 'stockmesh_anti_entropy_buckets_differing_total', 'eu-west')).toBe(2);
    expect(await valueOf(metrics, 'stockmesh_anti_entropy_rows_repaired_total', 'eu-west')).toBe(3);
    expect(await valueOf(metrics, 'stockmesh_anti_entropy_checks_total', 'ap-south')).toBe(0);
  });
});
