import { describe, expect, it } from '@jest/globals';
import { Partitioners } from 'kafkajs';
import { murmur2, toPositive } from './murmur2.js';
import { shardOf } from './shard-key.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('murmur2', () => {
  // The vectors of Apache Kafka's own UtilsTest.testMurmur2 (clients/src/test/.../UtilsTest.java).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j to %i like Kafka', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected);
  });

  it('clears only the sign bit in toPositive', () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(12345)).toBe(12345);
  });
});

describe('shardOf', () => {
  // kafkajs's DefaultPartitioner is the Java-compatible one: a record keyed by the SKU must land
  // in the partition whose number is the SKU's shard.
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 16 }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

  it('equals the partition Kafka picks for the SKU as key, for every kind of SKU', () => {
    const skus = ['SKU-1', 'sku-000042', 'TSHIRT-RED-XL', 'ÄÖÜ-ümlaut', '日本-1', 'a', 'x'.repeat(64)];
    for (let i = 0; i < 500; i++) skus.push(`sku-${i}-${(i * 7919) % 1013}`);
    for (const sku of skus) {
      const partition = partitioner({ topic: 'stock', partitionMetadata, message: { key: sku, value: null } });
      expect(shardOf(sku, 16)).toBe(partition);
    }
  });

  it('is stable: known SKUs keep their shards', () => {
    // Pinned from Kafka's partitioner: a change here would move stock between shards and must
    // never happen silently.
    expect(shardOf('SKU-1', 16)).toBe(4);
    expect(shardOf('SKU-2', 16)).toBe(8);
    expect(shardOf('TSHIRT-RED-XL', 16)).toBe(2);
    expect(shardOf('foobar', 16)).toBe(toPositive(-790332482) % 16);
  });

  it('spreads SKUs evenly over the shards', () => {
    const counts = new Array<number>(16).fill(0);
    const n = 32_000;
    for (let i = 0; i < n; i++) counts[shardOf(`SKU-${i}`, 16)]++;
    const expected = n / 16;
    // Chi-squared with 15 degrees of freedom: 37.7 is the 0.1% critical value.
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(37.7);
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.9);
  });

  it('rejects a shard count that is not a positive integer', () => {
    expect(() => shardOf('x', 0)).toThrow(RangeError);
    expect(() => shardOf('x', 1.5)).toThrow(RangeError);
  });
});
