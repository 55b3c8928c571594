import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a request's place in a trace that may
 * cross regions, carried in the `traceparent` header of HTTP calls and, on events, in the
 * CloudEvents distributed-tracing extension (`ce_traceparent`).
 */
export interface TraceContext {
  /** 32 lower-case hex digits, not all zero: the whole trace. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero: this region's span of it (the work of one request). */
  readonly spanId: string;
  /** The trace flags, 2 hex digits (`01`: sampled). */
  readonly flags: string;
}

export const TRACEPARENT_HEADER = 'traceparent';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The trace a `traceparent` header continues, with a new span for this request; a new trace
 * when the header is missing or not valid (version `ff`, all-zero ids, a version-00 header with
 * more fields, bad hex), as the specification says a receiver must do.
 */
export function continueTrace(header: string | undefined): TraceContext {
  const match = header === undefined ? null : TRACEPARENT.exec(header.trim());
  if (match) {
    const [, version, traceId, parentId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
    const valid = version !== 'ff' && !(version === '00' && rest !== undefined) && !/^0+$/.test(traceId) && !/^0+$/.test(parentId);
    if (valid) return { traceId, spanId: newSpanId(), flags };
  }
  return { traceId: randomBytes(16).toString('hex'), spanId: newSpanId(), flags: '01' };
}

/** The `traceparent` of a call made from within `trace`: its trace, with this span as the parent. */
export function traceparentOf(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

function newSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}
