import { describe, expect, it } from '@jest/globals';
import { decodeTransferCursor, encodeTransferCursor } from './transfer-cursor.js';

describe('transfer cursor', () => {
  it('round-trips a position', () => {
    const position = { createdAtMicros: '1765100000123456', id: 'us-east.0f8fad5b-d9cb-469f-a165-70867728950e' };
    expect(decodeTransferCursor(encodeTransferCursor(position))).toEqual(position);
  });

  it('refuses what this API did not make', () => {
    const made = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const id = 'us-east.0f8fad5b-d9cb-469f-a165-70867728950e';
    for (const cursor of ['', 'not-base64-json', made(null), made({ at: 5, id }), made({ at: '-1', id }), made({ at: '1', id: 'x y' })]) {
      expect(decodeTransferCursor(cursor)).toBeUndefined();
    }
  });
});
