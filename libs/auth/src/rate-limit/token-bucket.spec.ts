import { describe, expect, it } from '@jest/globals';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('lets a burst through at once, then refuses, saying when the next token comes', () => {
    const bucket = new TokenBucket(2, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)].every((r) => r.allowed)).toBe(true);
    expect(bucket.take(0)).toEqual({ allowed: false, retryAfterMs: 500 });
    expect(bucket.take(250)).toEqual({ allowed: false, retryAfterMs: 250 });
    expect(bucket.take(500).allowed).toBe(true);
  });

  it('keeps a client under the rate going forever, and refills no further than the burst', () => {
    const bucket = new TokenBucket(10, 2, 0);
    for (let t = 0; t < 10_000; t += 100) expect(bucket.take(t).allowed).toBe(true);
    expect(bucket.isFull(1_000_000)).toBe(true);
    expect([bucket.take(1_000_000), bucket.take(1_000_000), bucket.take(1_000_000)].map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('neither gives nor takes tokens when the clock steps back', () => {
    const bucket = new TokenBucket(1, 1, 10_000);
    expect(bucket.take(10_000).allowed).toBe(true);
    expect(bucket.take(5_000)).toEqual({ allowed: false, retryAfterMs: 1_000 });
    expect(bucket.take(11_000).allowed).toBe(true);
  });
});
