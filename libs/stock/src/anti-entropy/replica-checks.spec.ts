import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '@stockmesh/config';
import { ReplicaChecks } from './replica-checks.js';

const config = {
  region: { id: 'us-east' },
  cluster: { regions: [{ id: 'us-east' }, { id: 'eu-west' }, { id: 'ap-south' }] },
} as unknown as AppConfig;

function checks(): { checks: ReplicaChecks; tick(ms: number): void } {
  let now = Date.parse('2026-12-01T10:00:00.000Z');
  return { checks: new ReplicaChecks(config, { now: () => now }), tick: (ms) => (now += ms) };
}

describe('ReplicaChecks', () => {
  it('repairs a bucket only when it differs at two digests in a row', () => {
    const { checks: c } = checks();
    expect(c.compared('eu-west', 3, 'd1', 64, [5, 9])).toEqual([]);
    // 9 no longer differs (an in-flight change that has arrived since): not repaired.
    expect(c.compared('eu-west', 3, 'd2', 64, [5, 12])).toEqual([5]);
    // 5 was handed to the repair: it must differ twice again; 12 differed twice.
    expect(c.compared('eu-west', 3, 'd3', 64, [5, 12])).toEqual([12]);
    expect(c.compared('eu-west', 3, 'd4', 64, [5])).toEqual([5]);
  });

  it('keeps shards and regions apart', () => {
    const { checks: c } = checks();
    c.compared('eu-west', 3, 'd1', 64, [5]);
    expect(c.compared('eu-west', 4, 'd2', 64, [5])).toEqual([]);
    expect(c.compared('ap-south', 3, 'd3', 64, [5])).toEqual([]);
  });

  it('does not take the same digest compared again (its batch applied again) for a second one', () => {
    const { checks: c } = checks();
    c.compared('eu-west', 3, 'd1', 64, [5]);
    expect(c.compared('eu-west', 3, 'd1', 64, [5])).toEqual([]);
    expect(c.of('eu-west')).toMatchObject({ digestsCompared: 1, bucketsCompared: 64, bucketsDiffered: 1 });
  });

  it('counts checks, repairs and gaps per source region, with their times', () => {
    const { checks: c, tick } = checks();
    expect(c.of('eu-west')).toMatchObject({ lastCheckAt: null, lastRepairAt: null, rowsRepaired: 0 });
    c.compared('eu-west', 1, 'd1', 64, []);
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
        bucketsCompared: 64,
        bucketsDiffered: 0,
        repairs: 2,
        rowsRepaired: 3,
        lastRepairAt: '2026-12-01T10:00:01.000Z',
        gapsRepaired: 1,
      },
      expect.objectContaining({ region: 'ap-south', digestsCompared: 0 }),
    ]);
  });
});
