import { PoisonEventError, TOPICS } from '@stockmesh/contracts';
import type { IncomingMessage, OutgoingMessage } from '@stockmesh/messaging';

/**
 * The dead-letter record of a message that could not be parsed or applied: the original key,
 * value and headers, plus `dlt_*` headers saying where it came from and why it was refused.
 */
export function deadLetter(message: IncomingMessage, reason: string, consumer: string): OutgoingMessage {
  return {
    topic: TOPICS.deadLetter,
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      dlt_reason: reason.slice(0, 1000),
      dlt_topic: message.topic,
      dlt_partition: String(message.partition),
      dlt_offset: message.offset,
      dlt_consumer: consumer,
      dlt_time: new Date().toISOString(),
    },
  };
}

/** The SQLSTATE of a PostgreSQL error, as pg reports it directly or TypeORM wraps it. */
function sqlStateOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Why a record can never be applied, or `undefined` when applying it again may succeed.
 *
 * The record itself is at fault when the event contradicts what this region knows (a
 * `PoisonEventError` from an applier) or when PostgreSQL refuses its data: class 22 (data
 * exception: out of range, invalid text representation, bad time) and class 23 (integrity
 * constraint violation). Applying it again gives the same answer, so retrying would stall its
 * partition for good: it is dead-lettered instead. Everything else (connection loss, deadlock
 * 40P01, serialization failure 40001, too many connections 53300, admin shutdown 57P01, and
 * errors nobody foresaw) is retried, since the record may well apply once the cause is gone.
 */
export function refusalReason(error: unknown): string | undefined {
  if (error instanceof PoisonEventError) return error.reason;
  const state = sqlStateOf(error);
  if (state === undefined || !(state.startsWith('22') || state.startsWith('23'))) return undefined;
  return `the database refused the data (SQLSTATE ${state}): ${(error as Error).message}`;
}
