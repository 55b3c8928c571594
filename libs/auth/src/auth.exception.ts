import { CodedException } from '@stockmesh/contracts';

export enum AuthErrorCode {
  /** No, a malformed, an unknown or a revoked key: 401 with `WWW-Authenticate: Bearer`. */
  Unauthenticated = 'unauthenticated',
  /** A valid key without the scope the operation needs: 403 naming the scope. */
  InsufficientScope = 'insufficient-scope',
  ApiKeyNotFound = 'api-key-not-found',
  /** The key (or, without a valid key, the client address) used up its rate: 429 with Retry-After. */
  RateLimited = 'rate-limited',
  /** A key made for a sales channel this region does not know. */
  UnknownChannel = 'unknown-channel',
}

export class AuthException extends CodedException<`${AuthErrorCode}`> {
  constructor(code: AuthErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
