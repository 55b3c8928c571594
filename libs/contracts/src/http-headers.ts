/** Headers stockmesh reads or writes; lower-case, as Node.js presents them. */
export const HEADERS = {
  idempotencyKey: 'idempotency-key',
  /** `true` on an answer replayed for a repeated Idempotency-Key. */
  idempotentReplayed: 'idempotent-replayed',
  requestId: 'x-request-id',
  /** `Bearer <API key>` on every /v1 request; a forwarding region passes it on to the owner. */
  authorization: 'authorization',
  /** The region that produced the answer. */
  servedBy: 'stockmesh-served-by',
  /** Set on a request one region forwards to another; a forwarded request is never forwarded again. */
  forwardedFrom: 'stockmesh-forwarded-from',
} as const;
