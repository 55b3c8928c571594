import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

/** Shortest cluster secret a region accepts: 32 characters (at least 128 bits when random). */
export const CLUSTER_SECRET_MIN_LENGTH = 32;
/** Longest cluster secret a region accepts. */
export const CLUSTER_SECRET_MAX_LENGTH = 1024;
/** Printable ASCII without spaces: survives env files, YAML and `$(cat file)` unchanged. */
export const CLUSTER_SECRET_PATTERN = /^[\x21-\x7e]+$/;
/** Most secrets one file may name: the signing one and the ones still accepted during a rotation. */
export const CLUSTER_SECRETS_MAX = 4;

/**
 * The secrets of a cluster-secret file: one per line, blank lines and `#` comments ignored; the
 * first signs, every one is accepted (see docs/security.md, "Rotating the cluster secret").
 * Returns them, or what is wrong with the file, in words that never quote it: it is the secret.
 */
export function clusterSecretsIn(text: string): string[] | { readonly problem: string } {
  const secrets = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (secrets.length === 0) return { problem: 'holds no secret' };
  if (secrets.length > CLUSTER_SECRETS_MAX)
    return { problem: `holds ${secrets.length} secrets; at most ${CLUSTER_SECRETS_MAX} are allowed` };
  const bad = secrets.findIndex(
    (s) => s.length < CLUSTER_SECRET_MIN_LENGTH || s.length > CLUSTER_SECRET_MAX_LENGTH || !CLUSTER_SECRET_PATTERN.test(s),
  );
  if (bad >= 0) {
    return {
      problem: `secret ${bad + 1} must be ${CLUSTER_SECRET_MIN_LENGTH}-${CLUSTER_SECRET_MAX_LENGTH} printable ASCII characters without spaces`,
    };
  }
  return secrets;
}

/**
 * The per-cluster keys every region signs and checks region-to-region calls and API-key records
 * with: the first signs, every one is accepted, so that a new secret can be rolled out to every
 * region before any region signs with it, and an old one retired after none does any more. When
 * the secret comes from a file, ClusterSecretReloader replaces the keys as the file changes, with
 * no restart; everyone holding this object sees the new keys at once.
 *
 * Wrapped so that logging or serializing the configuration can never print a key: only
 * `reveal()` and `accepted()` give the bytes.
 */
export class ClusterSecret {
  #keys: readonly Buffer[];

  /** `signing` signs and is accepted; `alsoAccepted` are accepted only. */
  constructor(signing: string, ...alsoAccepted: string[]) {
    this.#keys = [signing, ...alsoAccepted].map((s) => Buffer.from(s, 'utf8'));
  }

  /** The signing key's bytes, for the HMAC and nothing else. */
  reveal(): Buffer {
    return this.#keys[0]!;
  }

  /** Every accepted key, the signing one first: a signature made with any of them is valid. */
  accepted(): readonly Buffer[] {
    return this.#keys;
  }

  /** Takes the keys of a new reading of the secret file (the first signs); at least one. */
  replace(secrets: readonly string[]): void {
    if (secrets.length === 0) throw new Error('a cluster secret needs at least one key');
    this.#keys = secrets.map((s) => Buffer.from(s, 'utf8'));
  }

  /**
   * A short name for each key (the first 12 hex digits of its SHA-256), signing key first: what
   * logs show, so that operators can see which keys each region signs with and accepts. It tells
   * nothing about the key itself.
   */
  fingerprints(): string[] {
    return this.#keys.map((k) => createHash('sha256').update(k).digest('hex').slice(0, 12));
  }

  toString(): string {
    return '[cluster secret]';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
