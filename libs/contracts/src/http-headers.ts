/** Headers stockmesh reads or writes; lower-case, as Node.js presents them. */
export const HEADERS = {
  idempotencyKey: 'idempotency-key',
  /** `true` on an answer replayed for a repeated Idempotency-Key. */
  idempotentReplayed: 'idempotent-replayed',
  requestId: 'x-request-id',
  /** `Bearer <API key>` on every /v1 request; a forwarding region passes it on to the owner. */
  authorization: 'authorization',
  /**
   * Formerly who made a change. No longer believed from anyone (the ledger's actor is the caller's
   * identity); stripped from public requests and kept only so that old clients sending it are harmless.
   */
  actor: 'x-actor',
  /** The region that produced the answer. */
  servedBy: 'stockmesh-served-by',
  /** Set on a request one region forwards to another; a forwarded request is never forwarded again. */
  forwardedFrom: 'stockmesh-forwarded-from',
  /** Region-to-region calls (internal listener only), all covered by `Stockmesh-Signature`: */
  /** The calling region. */
  region: 'stockmesh-region',
  /** When the call was signed, in milliseconds since the epoch. */
  timestamp: 'stockmesh-timestamp',
  /** A random value used once: a second call with it inside the replay window is refused. */
  nonce: 'stockmesh-nonce',
  /** SHA-256 of the body bytes, base64url (of nothing when there is no body). */
  contentSha256: 'stockmesh-content-sha256',
  /** The client a forwarded request acts for, `{ keyId, name, scopes }` as base64url JSON. */
  caller: 'stockmesh-caller',
  /** `v1=<base64url HMAC-SHA256>` over the canonical request (see docs/security.md). */
  signature: 'stockmesh-signature',
} as const;

/** Headers only a region may set: believed on signed internal calls, stripped from public requests. */
export const REGION_ONLY_HEADERS: readonly string[] = [
  HEADERS.forwardedFrom,
  HEADERS.actor,
  HEADERS.region,
  HEADERS.timestamp,
  HEADERS.nonce,
  HEADERS.contentSha256,
  HEADERS.caller,
  HEADERS.signature,
];
