/**
 * Every problem type stockmesh answers with (RFC 9457). The code is stable: clients branch on
 * `type` (or its last segment, `code`), never on `title` or `detail`. docs/errors.md lists them.
 */
export const PROBLEM_TYPES = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'malformed-request': { status: 400, title: 'The request is not well-formed HTTP' },
  'idempotency-key-invalid': { status: 400, title: 'The Idempotency-Key header is not valid' },
  'idempotency-key-required': { status: 400, title: 'This request needs an Idempotency-Key header' },
  unauthenticated: { status: 401, title: 'The request needs a valid API key (Authorization: Bearer <key>)' },
  'insufficient-scope': { status: 403, title: 'The API key does not have the scope this operation needs' },
  'channel-forbidden': { status: 403, title: 'The API key is bound to another sales channel' },
  'region-unauthenticated': { status: 401, title: 'The internal call is not signed by a region of this cluster' },
  'not-found': { status: 404, title: 'No such resource' },
  'api-key-not-found': { status: 404, title: 'No such API key' },
  'warehouse-not-found': { status: 404, title: 'No such warehouse' },
  'channel-not-found': { status: 404, title: 'No such sales channel' },
  'kit-not-found': { status: 404, title: 'No such kit' },
  'stock-not-found': { status: 404, title: 'No stock is recorded for this SKU in this warehouse' },
  'incoming-not-found': { status: 404, title: 'No such open incoming receipt for this SKU in this warehouse' },
  'reservation-not-found': { status: 404, title: 'No such reservation' },
  'hold-not-found': { status: 404, title: 'No such hold' },
  'transfer-not-found': { status: 404, title: 'No such transfer' },
  'dead-letter-not-found': { status: 404, title: 'No such dead letter of this region' },
  'method-not-allowed': { status: 405, title: 'The resource does not support this method' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'insufficient-stock': { status: 409, title: 'The change would leave less stock than is reserved or below zero' },
  'quantity-limit-exceeded': { status: 409, title: 'The change would exceed the largest quantity a row can hold' },
  'warehouse-region-conflict': { status: 409, title: 'The warehouse is already registered in another region' },
  'channel-region-conflict': { status: 409, title: 'The sales channel is already defined by another region' },
  'kit-region-conflict': { status: 409, title: 'The kit is already defined by another region' },
  'reservation-conflict': { status: 409, title: 'The reservation is not in a state that allows this' },
  'reservation-hold-lost': { status: 409, title: 'An owning region no longer had a hold of the reservation; it is not committed in full' },
  'reservation-in-progress': { status: 409, title: 'A reservation with this Idempotency-Key is still being made; retry shortly' },
  'incoming-promised': {
    status: 409,
    title: 'The incoming units are promised to backorders: the receipts cannot expect fewer than that',
  },
  'hold-conflict': { status: 409, title: 'The hold is not in a state that allows this' },
  'transfer-conflict': { status: 409, title: 'The transfer is not in a state that allows this' },
  'dead-letter-replayed': { status: 409, title: 'The dead letter was replayed already' },
  'shard-move-conflict': { status: 409, title: 'The shards cannot be moved so now; nothing was moved' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'uri-too-long': { status: 414, title: 'The request URI is too long' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'misdirected-request': { status: 421, title: 'The request reached a region that does not own the resource' },
  'idempotency-key-reused': { status: 422, title: 'The Idempotency-Key was already used with another request' },
  'reservation-too-large': {
    status: 422,
    title: 'With its kits expanded into their components, the reservation has too many lines or units',
  },
  'reservation-commit-invalid': { status: 422, title: 'The partial commit names more units than the reservation holds, or none' },
  'unknown-channel': { status: 422, title: 'The request names a sales channel this region does not know' },
  'unknown-warehouse': { status: 422, title: 'The request names a warehouse this region does not know' },
  'kit-component-is-kit': { status: 422, title: 'A kit component is itself a kit (kits do not nest)' },
  'incoming-limit-exceeded': { status: 422, title: 'The stock row has as many open incoming receipts as it may' },
  'kit-not-stocked': { status: 422, title: 'The SKU is a kit: its units are its components, it has no stock rows of its own' },
  'warehouse-outside-channel': { status: 422, title: 'A line names a warehouse the sales channel does not sell from' },
  'command-id-reused': { status: 422, title: 'The command id was already used for another command' },
  'dead-letter-not-replayable': { status: 422, title: 'The consumer that dead-lettered this record cannot replay it' },
  'dead-letter-replay-refused': { status: 422, title: 'The consumer refused the dead letter again; nothing changed' },
  'rate-limited': { status: 429, title: 'Too many requests for this API key (or client address); retry after Retry-After seconds' },
  'open-reservations-quota-exceeded': { status: 429, title: 'The API key has as many open reservations as its quota allows' },
  'held-units-quota-exceeded': { status: 429, title: 'The reservation would take the API key past the units it may hold at once' },
  'headers-too-large': { status: 431, title: 'The request line and headers are too large' },
  'internal-error': { status: 500, title: 'Internal error' },
  'region-unavailable': { status: 503, title: 'The owning region did not answer' },
  'reservation-deadline-exceeded': {
    status: 503,
    title: 'The reservation could not be made within its deadline (an owning region did not answer); nothing is held',
  },
  'not-ready': { status: 503, title: 'The region cannot serve requests right now' },
  busy: { status: 503, title: 'The region is too busy to take the request now; retry it' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

/** The `type` URI of a problem code. */
export function problemType(code: ProblemCode): string {
  return `https://stockmesh.dev/problems/${code}`;
}

/** One invalid field of a request. */
export interface FieldError {
  /** Dotted path of the field, e.g. `lines.0.quantity`; `body` for the body itself. */
  readonly field: string;
  /** The class-validator constraint that failed, e.g. `isInt`, `whitelistValidation`. */
  readonly constraint: string;
  readonly message: string;
}

/** An RFC 9457 problem details body, as stockmesh sends it. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  /** The stable code, the last segment of `type`. */
  readonly code: ProblemCode;
  /** The request id of the failed request, to find it in the logs. */
  readonly requestId?: string;
  readonly errors?: readonly FieldError[];
  readonly [extension: string]: unknown;
}

/**
 * Base of every module's exception: a stable problem code and a human detail, plus optional
 * extension members for the client (e.g. the available quantity). Codes become HTTP answers only
 * at the edge, in the problem-details filter.
 */
export abstract class CodedException<C extends ProblemCode = ProblemCode> extends Error {
  protected constructor(
    readonly code: C,
    message: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}
