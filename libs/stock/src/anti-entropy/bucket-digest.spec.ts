import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { ALL_BUCKETS, bucketOf, differingBuckets } from './bucket-digest.js';

describe('bucketOf', () => {
  it('is the first byte of MD5(warehouse/sku) modulo 64, as the SQL computes it', () => {
    const first = createHash('md5').update('fra-1/SKU-1').digest()[0];
    expect(bucketOf('fra-1', 'SKU-1')).toBe(first % 64);
  });

  it('spreads rows over every bucket', () => {
    const seen = new Set(Array.from({ length: 2_000 }, (_, i) => bucketOf('w', `SKU-${i}`)));
    expect([...seen].sort((a, b) => a - b)).toEqual(ALL_BUCKETS);
  });
});

describe('differingBuckets', () => {
  const b = (bucket: number, rows: number, hash: string): { bucket: number; rows: number; hash: string } => ({ bucket, rows, hash });

  it('finds nothing when both sides agree, whatever the order', () => {
    expect(differingBuckets([b(3, 1, 'aa'), b(1, 2, 'bb')], [b(1, 2, 'bb'), b(3, 1, 'aa')])).toEqual([]);
  });

  it('finds a changed hash, a changed count, and a bucket only one side has', () => {
    expect(differingBuckets([b(1, 1, 'aa'), b(2, 1, 'bb'), b(5, 1, 'cc')], [b(1, 1, 'ab'), b(2, 2, 'bb'), b(9, 1, 'dd')])).toEqual([
      1, 2, 5, 9,
    ]);
  });

  it('refuses a side that names a bucket twice', () => {
    expect(() => differingBuckets([b(1, 1, 'aa'), b(1, 1, 'aa')], [])).toThrow(RangeError);
  });
});
