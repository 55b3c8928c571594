/** Headers stockmesh reads or writes; lower-case, as Node.js presents them. */
export const HEADERS = {
  idempotencyKey: 'idempotency-key',
  /** `true` on an answer replayed for a repeated Idempotency-Key. */
  idempotentReplayed: 'idempotent-replayed',
  requestId: 'x-request-id',
  /** Who made a change; recorded in the movement ledger. */
  actor: 'x-actor',
  /** The region that produced the answer. */
  servedBy: 'stockmesh-served-by',
  /** Set on a request one region forwards to another; a forwarded request is never forwarded again. */
  forwardedFrom: 'stockmesh-forwarded-from',
} as const;
