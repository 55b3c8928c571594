import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { setTimeout as pause } from 'node:timers/promises';
import { createLogger } from './logging.js';
import { requestLogger, scopeRequests } from './request-log-context.js';

// A real Fastify (Nest's adapter's) on the loopback, with the region's logger and request scope:
// a line written by code that knows nothing of the request still carries its id.
const lines: Record<string, unknown>[] = [];
const raw: string[] = [];
const logger = createLogger(
  { level: 'info', region: 'us-east' },
  {
    write(line: string): void {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  },
);
const fastify = new FastifyAdapter({
  loggerInstance: logger,
  childLoggerFactory: requestLogger,
  genReqId: () => `req-${raw.length}`,
}).getInstance();
let base: string;

beforeAll(async () => {
  scopeRequests(fastify);
  // Like a service: the process's logger, after the body was parsed and after an await.
  fastify.post('/work', async (request) => {
    logger.info({ step: 'parsed' }, 'service line');
    await pause(5);
    setImmediate(() => logger.info({ step: 'later' }, 'service line'));
    await pause(5);
    return { ok: (request.body as { n: number }).n };
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const address = fastify.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await fastify.close();
});

describe('request ids in log lines', () => {
  it('tags every line written while serving a request with its reqId, once', async () => {
    // The body arrives in two parts, the second after the request's hooks ran: it is read from socket events.
    const body = new ReadableStream<Uint8Array>({
      async start(controller): Promise<void> {
        controller.enqueue(new TextEncoder().encode('{"n":'));
        await pause(50);
        controller.enqueue(new TextEncoder().encode('1}'));
        controller.close();
      },
    });
    const answer = await fetch(`${base}/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(answer.status).toBe(200);
    const service = lines.filter((l) => l.msg === 'service line');
    expect(service.map((l) => l.step)).toEqual(['parsed', 'later']);
    const access = lines.filter((l) => l.msg === 'request completed');
    expect(access).toHaveLength(1);
    expect(typeof access[0].reqId).toBe('string');
    for (const line of service) expect(line.reqId).toBe(access[0].reqId);
    // Every line of the request, the access lines too, names the trace it continues and its own span.
    for (const line of [...service, ...access]) {
      expect(line.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(line.spanId).toBe(access[0].spanId);
    }
    expect(access[0].spanId).toMatch(/^(?!00f067aa0ba902b7)[0-9a-f]{16}$/);
    // The access lines' own binding is not repeated by the mixin.
    for (const line of raw) expect(line.split('"reqId"').length).toBeLessThanOrEqual(2);
  });

  it('leaves lines written outside any request without a request id or trace', () => {
    logger.info('background line');
    const line = lines.find((l) => l.msg === 'background line');
    expect(line).not.toHaveProperty('reqId');
    expect(line).not.toHaveProperty('traceId');
  });
});
