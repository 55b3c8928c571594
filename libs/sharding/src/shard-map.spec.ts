import { describe, expect, it } from '@jest/globals';
import { ShardMap, splitShards } from './shard-map.js';

const db = (name: string, from: number, to: number) => ({ name, url: `postgres://h/${name}`, shards: { from, to } });

describe('splitShards', () => {
  it('splits 16 shards over 2 databases as 0-7 and 8-15', () => {
    expect(splitShards(16, 2)).toEqual([
      { from: 0, to: 7 },
      { from: 8, to: 15 },
    ]);
  });

  it('gives ranges that differ by at most one and cover every shard once', () => {
    for (const [count, parts] of [
      [16, 3],
      [10, 4],
      [7, 7],
      [1, 1],
    ]) {
      const ranges = splitShards(count, parts);
      const sizes = ranges.map((r) => r.to - r.from + 1);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(count);
      expect(ranges[0].from).toBe(0);
      expect(ranges.at(-1)?.to).toBe(count - 1);
    }
  });

  it('refuses more databases than shards', () => {
    expect(() => splitShards(4, 5)).toThrow(RangeError);
  });
});

describe('ShardMap', () => {
  const map = new ShardMap(16, [db('a', 0, 7), db('b', 8, 15)]);

  it('routes each shard to the database hosting it', () => {
    expect(map.databaseFor(0).name).toBe('a');
    expect(map.databaseFor(7).name).toBe('a');
    expect(map.databaseFor(8).name).toBe('b');
    expect(map.databaseFor(15).name).toBe('b');
    expect(map.shardsOf('b')).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('refuses shards outside the map', () => {
    expect(() => map.databaseFor(16)).toThrow(RangeError);
    expect(() => map.databaseFor(-1)).toThrow(RangeError);
  });

  it('refuses gaps, overlaps, out-of-range shards and duplicate names', () => {
    expect(() => new ShardMap(16, [db('a', 0, 6), db('b', 8, 15)])).toThrow(/shard 7 is not mapped/);
    expect(() => new ShardMap(16, [db('a', 0, 8), db('b', 8, 15)])).toThrow(/shard 8 is mapped to both/);
    expect(() => new ShardMap(16, [db('a', 0, 16)])).toThrow(/not within/);
    expect(() => new ShardMap(16, [db('a', 0, 7), db('a', 8, 15)])).toThrow(/used twice/);
    expect(() => new ShardMap(16, [])).toThrow(/at least one/);
  });
});
