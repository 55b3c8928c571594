import { describe, expect, it } from '@jest/globals';
import { loadAppConfig } from '@stockmesh/config';
import type { RegionHeartbeatData } from '@stockmesh/contracts';
import type { ShardDatabases } from '@stockmesh/persistence';
import type { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { ReplicationStatus } from './replication-status.service.js';

const config = loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_STALE_AFTER_MS: '5000' });

function setup(): { status: ReplicationStatus; clock: { t: number; now(): number } } {
  const clock = {
    t: 1_000_000,
    now(): number {
      return this.t;
    },
  };
  // The databases are not touched: applied positions are set directly.
  const status = new ReplicationStatus(config, {} as ShardDatabases, {} as ConsumerPositionsRepository, clock);
  return { status, clock };
}

const beat = (offsets: Record<number, number>, region = 'eu-west'): RegionHeartbeatData => ({
  region,
  instance: 'i-1',
  outboxPending: 0,
  stockOffsets: Object.entries(offsets).map(([partition, offset]) => ({ partition: Number(partition), offset: String(offset) })),
});

describe('ReplicationStatus', () => {
  it('marks a region never heard from as stale', () => {
    const { status } = setup();
    expect(status.freshness('eu-west')).toEqual({ region: 'eu-west', lastHeartbeatAt: null, stale: true, eventsBehind: 0, lagMs: 0 });
  });

  it('counts the events announced but not applied, and the age of the oldest heartbeat not covered', () => {
    const { status, clock } = setup();
    status.heartbeat(beat({ 0: 9, 3: 4 }), clock.t - 300); // published offsets 0..9 on p0 and 0..4 on p3
    clock.t += 200;
    status.heartbeat(beat({ 0: 14, 3: 4 }), clock.t - 100);
    status.setApplied(
      new Map([
        [0, 10n],
        [3, 2n],
      ]),
    ); // applied up to offset 9 on p0, 1 on p3
    const f = status.freshness('eu-west');
    expect(f.eventsBehind).toBe(5 + 3);
    expect(f.lagMs).toBe(500); // the first heartbeat (sent 500 ms ago) is not covered yet
    expect(f.stale).toBe(false);

    status.setApplied(
      new Map([
        [0, 10n],
        [3, 5n],
      ]),
    ); // the first heartbeat is now covered
    expect(status.freshness('eu-west').lagMs).toBe(100); // the second one was sent 100 ms ago
    status.setApplied(
      new Map([
        [0, 15n],
        [3, 5n],
      ]),
    );
    expect(status.freshness('eu-west')).toMatchObject({ eventsBehind: 0, lagMs: 0 });
  });

  it('merges the offsets several instances of a region announce', () => {
    const { status, clock } = setup();
    status.heartbeat({ ...beat({ 1: 7 }), instance: 'a' }, clock.t);
    status.heartbeat({ ...beat({ 1: 3, 2: 5 }), instance: 'b' }, clock.t);
    status.setApplied(new Map([[1, 4n]]));
    expect(status.freshness('eu-west').eventsBehind).toBe(4 + 6);
  });

  it('marks a region stale when its heartbeats stop, and ignores its own heartbeats', () => {
    const { status, clock } = setup();
    status.heartbeat(beat({}), clock.t);
    status.heartbeat(beat({}, 'us-east'), clock.t);
    clock.t += 5_001;
    expect(status.freshness('eu-west').stale).toBe(true);
    expect(status.all().map((f) => f.region)).toEqual(['eu-west', 'ap-south']);
    expect(status.freshness('us-east').lastHeartbeatAt).toBeNull();
  });
});
