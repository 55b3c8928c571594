import { IDENTIFIER_PATTERN, isExpectedDate, MAX_INCOMING_RECEIPTS, MAX_QUANTITY } from '../identifiers.js';
import { isEventTime, MAX_EVENT_VERSION } from './event-fields.js';
import { IncomingReceiptDto, STOCK_CHANGE_KINDS, StockChangeCauseDto, StockChangedData } from './event-types.js';

// The replicator's hot path: class-transformer and class-validator cost 85 to 90 µs of CPU per
// `stock.changed` record (BENCHMARKS.md, "Replication and outbox"), most of a region's apply time.
// This accepts the records the region's own owners write, in the form they write them, with plain
// checks, and nothing that `StockChangedData`'s decorators would refuse: a record it does not
// accept goes through class-validator as before, which accepts or refuses it and says why. The
// property test beside it (`stock-changed-fast-path.spec.ts`) checks that claim against the DTO.

const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** `Date.prototype.toISOString`'s form: the strict ISO 8601 that every owner writes. */
const ISO_UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** A version 4 UUID in lower case (what `randomUUID` makes): a subset of what `@IsUUID()` accepts. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Printable ASCII: a subset of `@Length(1, 255) @Matches(NO_CONTROL_CHARACTERS)` whatever the length counting. */
const PRINTABLE_ASCII_1_255 = /^[\x20-\x7e]{1,255}$/;
const REASON = /^[a-z-]{1,32}$/;
const KINDS = new Set<unknown>(STOCK_CHANGE_KINDS);

const int = (value: unknown, min: number, max: number): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
const matches = (value: unknown, pattern: RegExp): boolean => typeof value === 'string' && pattern.test(value);
/** Strict ISO 8601 and a real date: it prints back to itself (no 30 February, no hour 24). */
const time = (value: unknown): boolean =>
  matches(value, ISO_UTC_MILLIS) && isEventTime(value) && new Date(value as string).toISOString() === value;
const object = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Open incoming receipts as owners write them: a short array of plain receipts, ids unique. */
const incoming = (value: unknown): value is Record<string, unknown>[] =>
  Array.isArray(value) &&
  value.length <= MAX_INCOMING_RECEIPTS &&
  value.every(
    (r) => object(r) && matches(r.receiptId, IDENTIFIER_PATTERN) && int(r.quantity, 1, MAX_QUANTITY) && isExpectedDate(r.expectedAt),
  ) &&
  new Set(value.map((r) => (r as Record<string, unknown>).receiptId)).size === value.length;

/**
 * The `stock.changed` data of `plain` as `plainToInstance` would make it (unknown fields kept),
 * when plain checks show class-validator would accept it; `undefined` otherwise (then validate it
 * with class-validator).
 */
export function fastStockChangedData(plain: Record<string, unknown>): StockChangedData | undefined {
  const cause = plain.cause;
  if (
    !matches(plain.warehouseId, IDENTIFIER_PATTERN) ||
    !matches(plain.sku, IDENTIFIER_PATTERN) ||
    !matches(plain.region, REGION) ||
    !int(plain.shard, 0, 1023) ||
    !int(plain.onHand, 0, MAX_QUANTITY) ||
    !int(plain.reserved, 0, MAX_QUANTITY) ||
    // Optional (see StockChangedData): an older owner does not send it. `@IsOptional` also lets null through.
    !(plain.safetyStock === undefined || plain.safetyStock === null || int(plain.safetyStock, 0, MAX_QUANTITY)) ||
    !(plain.incoming === undefined || plain.incoming === null || incoming(plain.incoming)) ||
    !(plain.backordered === undefined || plain.backordered === null || int(plain.backordered, 0, MAX_QUANTITY)) ||
    !int(plain.version, 1, MAX_EVENT_VERSION) ||
    !time(plain.updatedAt) ||
    !object(cause) ||
    !KINDS.has(cause.kind) ||
    !int(cause.delta, -MAX_QUANTITY, MAX_QUANTITY) ||
    !matches(cause.reason, REASON) ||
    !matches(cause.movementId, UUID_V4) ||
    !matches(cause.actor, PRINTABLE_ASCII_1_255)
  ) {
    return undefined;
  }
  return Object.assign(new StockChangedData(), plain, {
    cause: Object.assign(new StockChangeCauseDto(), cause),
    ...(Array.isArray(plain.incoming) ? { incoming: plain.incoming.map((r) => Object.assign(new IncomingReceiptDto(), r)) } : {}),
  });
}
