import { describe, expect, it } from '@jest/globals';
import { decodeCaller, encodeCaller } from './region-signature.js';

describe('the caller identity a forwarded request carries', () => {
  it('round-trips a key without a channel, and one bound to a channel', () => {
    const plain = { keyId: '0123456789abcdef', name: 'storefront', scopes: ['stock:read'] };
    expect(decodeCaller(encodeCaller(plain))).toEqual(plain);
    const bound = { ...plain, channel: 'web-eu' };
    expect(decodeCaller(encodeCaller(bound))).toEqual(bound);
  });

  it('refuses a channel that is not a channel id', () => {
    for (const channel of ['', 'a/b', 'x'.repeat(65), 7, null]) {
      const header = Buffer.from(JSON.stringify({ keyId: 'k', name: 'n', scopes: [], channel })).toString('base64url');
      expect(decodeCaller(header)).toBeUndefined();
    }
  });
});
