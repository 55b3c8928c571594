import { API_KEY_ID_PATTERN } from '@stockmesh/contracts';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every key stockmesh issues starts with this, so a leaked one is easy to recognise (and to scan for). */
export const KEY_PREFIX = 'smk_';

/** A new key: what the client gets once (`key`) and what is kept (`id`, `secretHash`). */
export interface IssuedKey {
  readonly id: string;
  /** `smk_<id>_<secret>`: shown once, never stored. */
  readonly key: string;
  readonly secretHash: string;
}

/**
 * Makes a key: a 64-bit random id and a 256-bit random secret. The id is in the key, so the key
 * is found by a primary-key lookup instead of hashing against every stored key.
 */
export function issueKey(): IssuedKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${KEY_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a key of the `smk_<id>_<secret>` form, or `undefined`. */
export function parseKey(key: string): { readonly id: string; readonly secret: string } | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const rest = key.slice(KEY_PREFIX.length);
  const separator = rest.indexOf('_');
  if (separator < 0) return undefined;
  const id = rest.slice(0, separator);
  const secret = rest.slice(separator + 1);
  return API_KEY_ID_PATTERN.test(id) && secret.length > 0 ? { id, secret } : undefined;
}

/**
 * The stored form of a secret: base64url SHA-256. A plain fast hash is enough here, unlike for
 * passwords: the secrets are 256 random bits (the bootstrap key at least 32 characters chosen by
 * an operator), so there is no dictionary to try and a brute force over the hash is hopeless; a
 * slow KDF would only cost every request its CPU time.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Compares two hashes in constant time, so the time of a refusal says nothing about how close a guess was. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64url');
  const y = Buffer.from(b, 'base64url');
  return x.length === y.length && timingSafeEqual(x, y);
}
