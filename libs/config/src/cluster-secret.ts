import { inspect } from 'node:util';

/** Shortest cluster secret a region accepts: 32 characters (at least 128 bits when random). */
export const CLUSTER_SECRET_MIN_LENGTH = 32;
/** Printable ASCII without spaces: survives env files, YAML and `$(cat file)` unchanged. */
export const CLUSTER_SECRET_PATTERN = /^[\x21-\x7e]+$/;

/**
 * The per-cluster key every region signs and checks region-to-region calls with. Wrapped so that
 * logging or serializing the configuration can never print it: only `reveal()` gives the bytes.
 */
export class ClusterSecret {
  readonly #value: Buffer;

  constructor(value: string) {
    this.#value = Buffer.from(value, 'utf8');
  }

  /** The key bytes, for the HMAC and nothing else. */
  reveal(): Buffer {
    return this.#value;
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
