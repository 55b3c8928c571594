import { describe, expect, it } from '@jest/globals';
import { hashSecret, issueKey, parseKey, sameHash } from './api-key-secret.js';

describe('API key secrets', () => {
  it('issues smk_<id>_<secret> keys with 256-bit secrets, stored only as their hash', () => {
    const issued = issueKey();
    expect(issued.key).toMatch(/^smk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseKey(issued.key);
    expect(parsed?.id).toBe(issued.id);
    expect(Buffer.from(parsed!.secret, 'base64url')).toHaveLength(32);
    expect(issued.secretHash).toBe(hashSecret(parsed!.secret));
    expect(issued.secretHash).not.toContain(parsed!.secret);
    expect(issueKey().key).not.toBe(issued.key);
  });

  it('finds the id even when the secret itself contains underscores', () => {
    expect(parseKey('smk_0123456789abcdef_a_b_c')).toEqual({ id: '0123456789abcdef', secret: 'a_b_c' });
  });

  it.each([
    '',
    'smk_',
    'smk_0123456789abcdef',
    'smk_0123456789abcdef_',
    'smk_XYZ_secret',
    'sk_0123456789abcdef_s',
    'smk_0123456789abcdeff_s',
  ])('refuses %j', (key) => {
    expect(parseKey(key)).toBeUndefined();
  });

  it('compares hashes', () => {
    expect(sameHash(hashSecret('a'), hashSecret('a'))).toBe(true);
    expect(sameHash(hashSecret('a'), hashSecret('b'))).toBe(false);
    expect(sameHash(hashSecret('a'), 'short')).toBe(false);
  });
});
