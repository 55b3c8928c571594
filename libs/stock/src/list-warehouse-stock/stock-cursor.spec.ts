import { describe, expect, it } from '@jest/globals';
import { decodeStockCursor, encodeStockCursor } from './stock-cursor.js';

describe('stock cursor', () => {
  it('round-trips a SKU', () => {
    for (const sku of ['SKU-1', 'a', 'Z_9.x-y']) expect(decodeStockCursor(encodeStockCursor(sku))).toBe(sku);
  });

  it('refuses what this API did not make', () => {
    const made = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of ['', 'not-base64-json', made({ after: 'has space' }), made({ after: 5 }), made(['SKU-1']), made(null)]) {
      expect(decodeStockCursor(cursor)).toBeUndefined();
    }
  });
});
