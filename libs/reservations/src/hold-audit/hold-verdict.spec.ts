import { describe, expect, it } from '@jest/globals';
import type { AllocationState, ReservationStatus } from '../reservation.repository.js';
import { holdVerdict, ownerReleases } from './hold-verdict.js';

const STATUSES: ReservationStatus[] = ['pending', 'held', 'committing', 'committed', 'commit-failed', 'released', 'expired', 'failed'];
const STATES: AllocationState[] = ['intent', 'held', 'refused', 'committed', 'released', 'lost'];

describe('holdVerdict', () => {
  it('releases a hold whose reservation or allocation the coordinator does not know', () => {
    expect(holdVerdict(undefined, undefined)).toBe('unknown');
    expect(holdVerdict('held', undefined)).toBe('unknown');
    expect(ownerReleases('unknown')).toBe(true);
  });

  it('keeps every hold a running saga, a held reservation or a decided commit still wants', () => {
    for (const state of ['intent', 'held', 'refused', 'released'] as const) expect(holdVerdict('pending', state)).toBe('live');
    expect(holdVerdict('held', 'held')).toBe('live');
    expect(holdVerdict('committing', 'held')).toBe('live');
  });

  it('never lets the owner release a hold the coordinator counts as committed or lost', () => {
    for (const status of STATUSES) {
      expect(holdVerdict(status, 'committed')).toBe('anomaly');
      expect(holdVerdict(status, 'lost')).toBe('anomaly');
    }
    expect(ownerReleases('anomaly')).toBe(false);
  });

  it('releases every other hold of a finished reservation, and the compensated ones of a live one', () => {
    const live = new Set(['pending', 'held/held', 'committing/held']);
    for (const status of STATUSES)
      for (const state of STATES) {
        if (state === 'committed' || state === 'lost') continue;
        const verdict = holdVerdict(status, state);
        const expected = live.has(status) || live.has(`${status}/${state}`) ? 'live' : 'ended';
        expect(`${status}/${state}: ${verdict}`).toBe(`${status}/${state}: ${expected}`);
      }
    expect(ownerReleases('ended')).toBe(true);
    expect(ownerReleases('live')).toBe(false);
  });
});
