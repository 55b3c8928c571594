import { describe, expect, it } from '@jest/globals';
import { ageOf, ratesBetween, Ring } from './series.js';

describe('the dashboard’s ring of readings', () => {
  it('keeps the last window only, oldest first', () => {
    const ring = new Ring(10_000);
    for (let t = 0; t <= 30_000; t += 2_000) ring.push({ t, values: { 'eu-west': t / 1000 } });
    expect(ring.all().map((p) => p.t)).toEqual([20_000, 22_000, 24_000, 26_000, 28_000, 30_000]);
    expect(ring.max()).toBe(30);
  });

  it('drops readings a later one does not follow in time (a clock that went back)', () => {
    const ring = new Ring(60_000);
    ring.push({ t: 1_000, values: { a: 1 } });
    ring.push({ t: 3_000, values: { a: 3 } });
    ring.push({ t: 2_000, values: { a: 2, b: 5 } });
    expect(ring.all().map((p) => p.t)).toEqual([1_000, 2_000]);
    expect(ring.names()).toEqual(['a', 'b']);
  });
});

describe('rates between two counter readings', () => {
  const reading = (at: number, writes: number, since = 's1'): { at: number; since: string; totals: Record<string, number> } => ({
    at,
    since,
    totals: { writes },
  });

  it('is the difference over the seconds between them', () => {
    expect(ratesBetween(reading(0, 10), reading(2_000, 30))).toEqual({ writes: 10 });
  });

  it('gives none for the first reading, across a restart, or without time between', () => {
    expect(ratesBetween(undefined, reading(0, 1))).toBeUndefined();
    expect(ratesBetween(reading(0, 500), reading(2_000, 3, 's2'))).toBeUndefined();
    expect(ratesBetween(reading(1_000, 1), reading(1_000, 2))).toBeUndefined();
  });
});

describe('ages', () => {
  it('reads at a glance', () => {
    expect([400, 12_300, 180_000, 7_200_000, 5 * 86_400_000].map(ageOf)).toEqual(['0.4 s', '12 s', '3 min', '2 h', '5 d']);
    expect(ageOf(-50)).toBe('0.0 s');
  });
});
