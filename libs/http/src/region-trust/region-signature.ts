import { HEADERS } from '@stockmesh/contracts';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The client a forwarded request acts for, as the receiving region authenticated it. */
export interface CallerIdentity {
  readonly keyId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  /** The sales channel the client's key is bound to, if any. */
  readonly channel?: string;
}

/** Everything a region-to-region signature covers. */
export interface SignedRequestParts {
  readonly method: string;
  /** Path and query exactly as sent on the wire, e.g. `/internal/v1/holds/us-east.<uuid>.1/commit`. */
  readonly path: string;
  /** The region called: a call signed for one region is worth nothing at another. */
  readonly to: string;
  readonly from: string;
  readonly timestamp: number;
  readonly nonce: string;
  /** base64url SHA-256 of the body bytes (`sha256Of('')` without a body). */
  readonly contentSha256: string;
  readonly requestId?: string;
  readonly idempotencyKey?: string;
  /** The region that forwarded a client's request (a forwarded request is never forwarded again). */
  readonly forwardedFrom?: string;
  /** `HEADERS.caller` as sent: base64url JSON of a `CallerIdentity`. */
  readonly caller?: string;
}

const SIGNATURE_VERSION = 'v1';

export function sha256Of(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64url');
}

/**
 * One line per signed element, in a fixed order, each free of newlines (the receiver checks the
 * headers' formats before it builds this), so two different requests never share a canonical form.
 */
export function canonicalRequest(p: SignedRequestParts): string {
  return [
    `stockmesh-region-auth-${SIGNATURE_VERSION}`,
    p.method.toUpperCase(),
    p.path,
    p.to,
    p.from,
    String(p.timestamp),
    p.nonce,
    p.contentSha256,
    p.requestId ?? '',
    p.idempotencyKey ?? '',
    p.forwardedFrom ?? '',
    p.caller ?? '',
  ].join('\n');
}

/** `v1=<base64url HMAC-SHA256(secret, canonical request)>`. */
export function signatureOf(secret: Buffer, parts: SignedRequestParts): string {
  return `${SIGNATURE_VERSION}=${createHmac('sha256', secret).update(canonicalRequest(parts)).digest('base64url')}`;
}

/** Constant-time comparison of a received signature with the expected one. */
export function signatureMatches(secret: Buffer, parts: SignedRequestParts, received: string): boolean {
  const expected = Buffer.from(signatureOf(secret, parts));
  const given = Buffer.from(received);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function encodeCaller(identity: CallerIdentity): string {
  const { keyId, name, scopes, channel } = identity;
  return Buffer.from(JSON.stringify({ keyId, name, scopes: [...scopes], ...(channel === undefined ? {} : { channel }) })).toString(
    'base64url',
  );
}

const KEY_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const NAME_PATTERN = /^[\x20-\x7e]{1,128}$/;
const SCOPE_PATTERN = /^[a-z][a-z:_-]{0,63}$/;
const CHANNEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The identity a signed `HEADERS.caller` carries, or `undefined` if it is not one. */
export function decodeCaller(header: string): CallerIdentity | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    return undefined; // not JSON: the caller answers 401
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { keyId, name, scopes, channel } = value as Record<string, unknown>;
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) return undefined;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) return undefined;
  if (!Array.isArray(scopes) || scopes.length > 32 || !scopes.every((s) => typeof s === 'string' && SCOPE_PATTERN.test(s))) {
    return undefined;
  }
  if (channel !== undefined && (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel))) return undefined;
  return { keyId, name, scopes: scopes as string[], ...(channel === undefined ? {} : { channel }) };
}

/** What a region signs a call with, besides the request itself. */
export interface SignOptions {
  readonly secret: Buffer;
  readonly from: string;
  readonly to: string;
  readonly now: number;
  readonly requestId?: string;
  readonly idempotencyKey?: string;
  readonly forwardedFrom?: string;
  readonly caller?: CallerIdentity;
}

/**
 * The headers that authenticate one region-to-region request: call it once per attempt (every
 * attempt needs a fresh nonce) with the exact path and body bytes that will be sent.
 */
export function signRequest(method: string, path: string, body: string | undefined, o: SignOptions): Record<string, string> {
  const caller = o.caller ? encodeCaller(o.caller) : undefined;
  const parts: SignedRequestParts = {
    method,
    path,
    to: o.to,
    from: o.from,
    timestamp: o.now,
    nonce: randomBytes(16).toString('base64url'),
    contentSha256: sha256Of(body ?? ''),
    requestId: o.requestId,
    idempotencyKey: o.idempotencyKey,
    forwardedFrom: o.forwardedFrom,
    caller,
  };
  const headers: Record<string, string> = {
    [HEADERS.region]: parts.from,
    [HEADERS.timestamp]: String(parts.timestamp),
    [HEADERS.nonce]: parts.nonce,
    [HEADERS.contentSha256]: parts.contentSha256,
    [HEADERS.signature]: signatureOf(o.secret, parts),
  };
  if (o.requestId !== undefined) headers[HEADERS.requestId] = o.requestId;
  if (o.idempotencyKey !== undefined) headers[HEADERS.idempotencyKey] = o.idempotencyKey;
  if (o.forwardedFrom !== undefined) headers[HEADERS.forwardedFrom] = o.forwardedFrom;
  if (caller !== undefined) headers[HEADERS.caller] = caller;
  return headers;
}
