import { describe, expect, it } from '@jest/globals';
import { retryDelayMs } from './finish-backoff.js';

describe('retryDelayMs', () => {
  it('doubles from 5 s with each failed attempt, up to 5 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50, 10_000].map((n) => retryDelayMs(n, 0))).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('stretches a wait by at most a quarter', () => {
    expect(retryDelayMs(1, 0.999_999)).toBeCloseTo(6_250, 0);
    expect(retryDelayMs(7, 0.5)).toBe(337_500);
    expect(retryDelayMs(1, 7)).toBe(6_250);
  });

  it('treats a first attempt that was never counted like the first', () => {
    expect(retryDelayMs(0, 0)).toBe(5_000);
  });
});
