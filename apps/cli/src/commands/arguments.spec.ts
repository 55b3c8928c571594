import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from 'commander';
import { cartLine, integer, shardList } from './arguments.js';

describe('command-line arguments', () => {
  it('reads whole numbers, negative ones too, and refuses anything else before a request is sent', () => {
    expect(integer('12')).toBe(12);
    expect(integer('-3')).toBe(-3);
    for (const bad of ['1.5', '1e3', 'two', '', ' 1', '0x10', '1234567890123456']) expect(() => integer(bad)).toThrow(InvalidArgumentError);
  });

  it('reads cart lines, with or without a warehouse, and keeps them in order', () => {
    expect(cartLine('SKU-1:2@fra-1', cartLine('SKU-2:1'))).toEqual([
      { sku: 'SKU-2', quantity: 1 },
      { sku: 'SKU-1', quantity: 2, warehouseId: 'fra-1' },
    ]);
    for (const bad of ['SKU-1', 'SKU-1:', 'SKU-1:-1', 'SKU-1:2@', ':2', 'SKU 1:2', 'SKU-1:2@a@b'])
      expect(() => cartLine(bad)).toThrow(InvalidArgumentError);
  });

  it('reads shard lists of numbers and ranges, once each, and refuses anything else', () => {
    expect(shardList('8-11,14')).toEqual([8, 9, 10, 11, 14]);
    expect(shardList('3')).toEqual([3]);
    expect(shardList('2-3,3')).toEqual([2, 3]);
    for (const bad of ['', '8-', '-1', '11-8', 'a', '1,,2', '1.5']) expect(() => shardList(bad)).toThrow(InvalidArgumentError);
  });
});
