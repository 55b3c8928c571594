import { IsInt, IsISO8601, Max, Min, ValidateBy, buildMessage } from 'class-validator';

/**
 * Bounds every number and time of an event must respect, so that whatever passes validation can
 * be stored: a consumer that validates an event and then fails to insert it would retry it
 * forever and stall its partition.
 */

/**
 * The largest row version an event may carry. The columns are `bigint`, but a JSON number above
 * 2^53 − 1 is no longer exact, and one such as `1e21` is sent to PostgreSQL as `1e+21`, which is
 * not a bigint literal at all (22P02).
 */
export const MAX_EVENT_VERSION = Number.MAX_SAFE_INTEGER;

/** A count no event needs to exceed (e.g. a region's pending outbox), and that JavaScript counts exactly. */
export const MAX_EVENT_COUNT = Number.MAX_SAFE_INTEGER;

/**
 * Times an event may carry: what PostgreSQL's `timestamptz` stores and every owner can have
 * written (no event predates the epoch; year 0 and years above 9999 are refused by one or the
 * other).
 */
const EARLIEST_TIME = Date.UTC(1970, 0, 1);
const LATEST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Whether `value` is an RFC 3339 time within the range events may carry. */
export function isEventTime(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && ms >= EARLIEST_TIME && ms <= LATEST_TIME;
}

const compose =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const decorator of decorators) decorator(target, key);
  };

/** A row version: a positive integer that JavaScript and a `bigint` column both hold exactly. */
export function IsEventVersion(): PropertyDecorator {
  return compose(IsInt(), Min(1), Max(MAX_EVENT_VERSION));
}

/** A strict ISO 8601 time between 1970 and 9999 (see `isEventTime`). */
export function IsEventTime(): PropertyDecorator {
  return compose(
    IsISO8601({ strict: true }),
    ValidateBy({
      name: 'isEventTime',
      validator: {
        validate: (value: unknown): boolean => isEventTime(value),
        defaultMessage: buildMessage((each) => `${each}$property must be a time between 1970 and 9999`),
      },
    }),
  );
}
