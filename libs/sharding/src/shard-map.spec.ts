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

describe('ShardMap overrides', () => {
  const spare = { name: 'c', url: 'postgres://h/c' };

  it('routes moved shards to their new database and leaves the others where the cluster file puts them', () => {
    const map = new ShardMap(16, [db('a', 0, 7), db('b', 8, 15), spare]);
    expect(map.shardsOf('c')).toEqual([]);
    expect(map.assign(1, new Map([...[8, 9, 10, 11].map((s) => [s, 'c'] as const)]))).toBe(true);
    expect(map.version).toBe(1);
    expect(map.databaseFor(9).name).toBe('c');
    expect(map.databaseFor(12).name).toBe('b');
    expect(map.shardsOf('b')).toEqual([12, 13, 14, 15]);
    expect(map.shardsOf('c')).toEqual([8, 9, 10, 11]);
    // Moved back: the version's overrides replace the previous version's whole.
    expect(map.assign(2, new Map([[9, 'b']]))).toBe(true);
    expect(map.shardsOf('c')).toEqual([]);
    expect(map.databaseFor(9).name).toBe('b');
  });

  it('ignores a version not newer than the one in force', () => {
    const map = new ShardMap(16, [db('a', 0, 7), db('b', 8, 15), spare]);
    map.assign(3, new Map([[8, 'c']]));
    expect(map.assign(2, new Map())).toBe(false);
    expect(map.assign(3, new Map())).toBe(false);
    expect(map.databaseFor(8).name).toBe('c');
  });

  it('refuses, changing nothing, an unknown database, shard 0 or a shard out of range', () => {
    const map = new ShardMap(16, [db('a', 0, 7), db('b', 8, 15), spare]);
    expect(() => map.assign(1, new Map([[8, 'nowhere']]))).toThrow(/not in the cluster file/);
    expect(() => map.assign(1, new Map([[0, 'c']]))).toThrow(/never moves/);
    expect(() => map.assign(1, new Map([[16, 'c']]))).toThrow(/outside/);
    expect(map.version).toBe(0);
    expect(map.databaseFor(8).name).toBe('b');
  });

  it('accepts a spare database, which hosts no shard at boot', () => {
    expect(new ShardMap(4, [db('a', 0, 3), spare]).shardsOf('c')).toEqual([]);
  });
});
