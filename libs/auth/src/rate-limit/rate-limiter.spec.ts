import { describe, expect, it } from '@jest/globals';
import type { AppConfig, Clock } from '@stockmesh/config';
import { exemptFromLimits, MAX_BUCKETS, RateLimiter } from './rate-limiter.js';

class TestClock implements Clock {
  time = 0;
  now(): number {
    return this.time;
  }
}

const limits = (exemptAdmin = false): AppConfig => ({ limits: { ratePerSecond: 1, burst: 2, exemptAdmin } }) as AppConfig;

describe('RateLimiter', () => {
  it('keeps one bucket per caller: one caller out of tokens does not touch another', () => {
    const limiter = new RateLimiter(limits(), new TestClock());
    expect([limiter.take('key a'), limiter.take('key a'), limiter.take('key a')].map((r) => r.allowed)).toEqual([true, true, false]);
    expect(limiter.take('key b').allowed).toBe(true);
    expect(limiter.take('address 127.0.0.1').allowed).toBe(true);
    expect(limiter.counters()).toEqual({ allowed: 4, refused: 1, buckets: 3 });
  });

  it('forgets idle buckets once they have refilled, so memory follows the active callers', () => {
    const clock = new TestClock();
    const limiter = new RateLimiter(limits(), clock);
    for (let i = 0; i < 1_000; i++) limiter.take(`address 10.0.${i >> 8}.${i & 255}`);
    expect(limiter.counters().buckets).toBe(1_000);
    // Half a token back is not yet a full bucket: nothing may be forgotten.
    clock.time = 500;
    limiter.take('key x');
    expect(limiter.counters().buckets).toBe(1_001);
    // Later every bucket but the busy one is full again; each request drops a few of them.
    clock.time = 3_000;
    for (let i = 0; i < 300; i++) limiter.take('key busy');
    expect(limiter.counters().buckets).toBe(1);
  });

  it('never keeps more than MAX_BUCKETS, however many callers arrive at once', () => {
    const limiter = new RateLimiter(limits(), new TestClock());
    for (let i = 0; i < MAX_BUCKETS + 500; i++) limiter.take(`key ${i}`);
    expect(limiter.counters().buckets).toBe(MAX_BUCKETS);
  });
});

describe('exemptFromLimits', () => {
  it('exempts admin keys only when configured to', () => {
    expect(exemptFromLimits(limits(true), { scopes: ['admin'] })).toBe(true);
    expect(exemptFromLimits(limits(true), { scopes: ['stock:read', 'reservations:write'] })).toBe(false);
    expect(exemptFromLimits(limits(false), { scopes: ['admin'] })).toBe(false);
  });
});
