import { describe, expect, it } from '@jest/globals';
import { currentTraceparent, requestIdMixin, withTrace } from './request-log-context.js';
import { continueTrace, traceparentOf } from './trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('W3C trace context', () => {
  it('continues a valid traceparent with a new span of its own, and passes it on with that span as parent', () => {
    const trace = continueTrace(`00-${TRACE}-${PARENT}-01`);
    expect(trace.traceId).toBe(TRACE);
    expect(trace.flags).toBe('01');
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.spanId).not.toBe(PARENT);
    expect(traceparentOf(trace)).toBe(`00-${TRACE}-${trace.spanId}-01`);
    // A later version may add fields: the first four are read.
    expect(continueTrace(`cc-${TRACE}-${PARENT}-00-what-comes-next`)).toMatchObject({ traceId: TRACE, flags: '00' });
  });

  it('starts a new trace for a missing or invalid header, as the specification says', () => {
    for (const header of [
      undefined,
      '',
      `ff-${TRACE}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-01-extra`,
      `00-${TRACE}-${PARENT}`,
      'garbage',
    ]) {
      const trace = continueTrace(header);
      expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.traceId).not.toBe(TRACE);
      expect(traceparentOf(trace)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    expect(continueTrace(undefined).traceId).not.toBe(continueTrace(undefined).traceId);
  });
});

describe('the trace of the current work', () => {
  it('is what log lines, region calls and events of work run withTrace carry; nothing outside it', async () => {
    expect(currentTraceparent()).toBeUndefined();
    expect(requestIdMixin({}, 30, {})).toEqual({});
    await withTrace('command-7', `00-${TRACE}-${PARENT}-01`, async () => {
      await Promise.resolve();
      const line = requestIdMixin({}, 30, {}) as { reqId: string; traceId: string; spanId: string };
      expect(line).toEqual({ reqId: 'command-7', traceId: TRACE, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });
      expect(currentTraceparent()).toBe(`00-${TRACE}-${line.spanId}-01`);
    });
    expect(currentTraceparent()).toBeUndefined();
  });
});
