import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { API_KEY_SIGNATURE_PATTERN, apiKeyChangeSigned, signApiKeyChange, type UnsignedApiKeyChange } from './api-key-signature.js';

const secret = Buffer.from('stockmesh-unit-test-cluster-secret-0123456789');
const change: UnsignedApiKeyChange = {
  id: '0123456789abcdef',
  name: 'storefront',
  scopes: ['stock:read', 'reservations:write'],
  secretHash: 'x'.repeat(43),
  region: 'us-east',
  version: 1,
  createdAt: '2026-12-01T10:00:00.000Z',
  revokedAt: null,
};
const signed = { ...change, signature: signApiKeyChange(secret, 'us-east', change) };

describe('the signature of an API-key change', () => {
  it('has the documented form and verifies for the same secret, source and data', () => {
    expect(signed.signature).toMatch(API_KEY_SIGNATURE_PATTERN);
    expect(apiKeyChangeSigned(secret, 'us-east', signed)).toBe(true);
  });

  it('fails for another secret or another source', () => {
    expect(apiKeyChangeSigned(Buffer.from('another-secret-of-the-same-length-0123456789'), 'us-east', signed)).toBe(false);
    expect(apiKeyChangeSigned(secret, 'eu-west', signed)).toBe(false);
  });

  it.each([
    ['id', { id: 'fedcba9876543210' }],
    ['name', { name: 'storefront2' }],
    ['scopes', { scopes: ['admin'] }],
    ['scope order', { scopes: ['reservations:write', 'stock:read'] }],
    ['secretHash', { secretHash: 'y'.repeat(43) }],
    ['region', { region: 'eu-west' }],
    ['version', { version: 2 }],
    ['createdAt', { createdAt: '2026-12-01T10:00:00.001Z' }],
    ['revokedAt', { revokedAt: '2026-12-02T10:00:00.000Z' }],
    ['channel (added to an unbound key)', { channel: 'web-eu' }],
  ] as const)('fails when %s changes', (_, altered) => {
    expect(apiKeyChangeSigned(secret, 'us-east', { ...signed, ...altered } as typeof signed)).toBe(false);
  });

  it('signs a key without a channel exactly as before channels existed (records on the topic still verify)', () => {
    // The HMAC of the canonical form of the first version, which had no channel.
    const before = createHmac('sha256', secret)
      .update(
        JSON.stringify([
          'stockmesh api-key.changed v1',
          'us-east',
          change.id,
          change.name,
          change.scopes,
          change.secretHash,
          change.region,
          change.version,
          change.createdAt,
          null,
        ]),
      )
      .digest('base64url');
    expect(signed.signature).toBe(`v1=${before}`);
    expect(signApiKeyChange(secret, 'us-east', { ...change, channel: null })).toBe(signed.signature);
  });

  it('covers a bound key’s channel: it cannot be changed or dropped', () => {
    const bound = { ...change, channel: 'web-eu' };
    const signedBound = { ...bound, signature: signApiKeyChange(secret, 'us-east', bound) };
    expect(apiKeyChangeSigned(secret, 'us-east', signedBound)).toBe(true);
    expect(apiKeyChangeSigned(secret, 'us-east', { ...signedBound, channel: 'web-us' })).toBe(false);
    expect(apiKeyChangeSigned(secret, 'us-east', { ...signedBound, channel: null })).toBe(false);
    const { channel: _dropped, ...unbound } = signedBound;
    expect(apiKeyChangeSigned(secret, 'us-east', unbound)).toBe(false);
  });

  it('fails, without throwing, for a signature of another length', () => {
    expect(apiKeyChangeSigned(secret, 'us-east', { ...signed, signature: 'v1=short' })).toBe(false);
  });
});
