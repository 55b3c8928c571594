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
});
