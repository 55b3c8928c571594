import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { connect } from 'node:net';

// The answers the HTTP stack itself gives (Fastify's router and body parsing, Node's HTTP parser
// and request timer) are problem details like every other refusal. Requests fetch cannot make
// (a bad Content-Length, a header overflow, a request that never completes) go over raw sockets.
let region: TestRegion;
const W = 'fw-1';
const row = `/v1/warehouses/${W}/stock/SKU-1`;
// Short enough to keep the timeout cases fast, long enough for any loopback request to arrive
// even when a busy machine stalls the event loop between its headers and its body.
const REQUEST_TIMEOUT_MS = 1_000;

beforeAll(async () => {
  region = await startTestRegion(
    'fwerrors',
    { STOCKMESH_BODY_LIMIT: '4096' },
    { httpLimits: { requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: REQUEST_TIMEOUT_MS } },
  );
  await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: 'Framework errors DC' } });
}, 60_000);

afterAll(async () => {
  await region?.close();
});

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

/** Writes `request` as it is on a new connection and reads the answer until the server closes it. */
async function raw(request: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(region.url);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(request);
  });
  const [head = '', body = ''] = text.split(/\r\n\r\n(.*)/s);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: body ? (JSON.parse(body) as Record<string, unknown>) : {} };
}

function expectProblem(answer: RawAnswer, status: number, code: string): void {
  expect({ status: answer.status, contentType: answer.headers['content-type'] }).toEqual({
    status,
    contentType: 'application/problem+json; charset=utf-8',
  });
  expect(answer.body).toMatchObject({ type: `https://stockmesh.dev/problems/${code}`, status, code });
  expect(typeof answer.body.title).toBe('string');
  expect(typeof answer.body.detail).toBe('string');
  expect(typeof answer.body.requestId).toBe('string');
  expect(answer.headers['x-request-id']).toBe(answer.body.requestId);
  expect(answer.headers['stockmesh-served-by']).toBe('us-east');
}

describe('answers of the router', () => {
  it('a path parameter over 100 characters → 414 uri-too-long', async () => {
    const answer = await call(region, 'GET', `/v1/warehouses/${W}/stock/${'S'.repeat(300)}`);
    expectProblem(answer, 414, 'uri-too-long');
    expect(answer.body.instance).toBe(`/v1/warehouses/${W}/stock/${'S'.repeat(300)}`);
  });

  it('bad percent-encoding in the path → 400 malformed-request', async () => {
    const answer = await raw(`GET /v1/warehouses/%E0%A4%A/stock/SKU-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expectProblem(answer, 400, 'malformed-request');
  });

  it('an unknown path → 404 not-found', async () => {
    expectProblem(await call(region, 'DELETE', '/v1/nothing-here'), 404, 'not-found');
  });

  it('a known path asked with a method it does not take → 405 with Allow', async () => {
    const answer = await call(region, 'DELETE', row);
    expectProblem(answer, 405, 'method-not-allowed');
    expect(answer.headers.allow).toBe('GET, HEAD, PUT');
    expect(answer.body.allow).toEqual(['GET', 'HEAD', 'PUT']);
  });

  it('the request id a client sends is the one in the answer', async () => {
    const answer = await call(region, 'DELETE', row, { headers: { 'x-request-id': 'fw-405' } });
    expect(answer.body.requestId).toBe('fw-405');
  });
});

describe('answers of body parsing', () => {
  it('a body over the limit → 413 payload-too-large', async () => {
    const answer = await call(region, 'PUT', row, { body: { onHand: 1, pad: 'x'.repeat(5000) } });
    expectProblem(answer, 413, 'payload-too-large');
  });

  it('a body that is not JSON → 415 unsupported-media-type', async () => {
    const answer = await call(region, 'PUT', row, { rawBody: 'onHand=1', headers: { 'content-type': 'text/plain' } });
    expectProblem(answer, 415, 'unsupported-media-type');
  });

  it('malformed JSON → 400 malformed-json', async () => {
    const answer = await call(region, 'PUT', row, { rawBody: '{"onHand": ', headers: { 'content-type': 'application/json' } });
    expectProblem(answer, 400, 'malformed-json');
  });
});

describe("answers of Node's HTTP parser", () => {
  it('headers over 16 KiB → 431 headers-too-large', async () => {
    const answer = await raw(`GET ${row} HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(17 * 1024)}\r\n\r\n`);
    expectProblem(answer, 431, 'headers-too-large');
  });

  it('a URL over 16 KiB also counts into the header limit → 431 headers-too-large', async () => {
    const answer = await raw(`GET /v1/warehouses/${W}/stock/SKU-1?x=${'q'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectProblem(answer, 431, 'headers-too-large');
  });

  it('a Content-Length that is not a number → 400 malformed-request', async () => {
    const answer = await raw(`PUT ${row} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ten\r\n\r\n{}`);
    expectProblem(answer, 400, 'malformed-request');
  });

  it('two Content-Lengths → 400 malformed-request', async () => {
    const answer = await raw(
      `PUT ${row} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
    );
    expectProblem(answer, 400, 'malformed-request');
  });

  it('a header name with a space → 400 malformed-request', async () => {
    expectProblem(await raw(`GET ${row} HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n`), 400, 'malformed-request');
  });

  it('not HTTP at all → 400 malformed-request', async () => {
    expectProblem(await raw('HELLO\r\n\r\n'), 400, 'malformed-request');
  });
});

describe('requests that do not arrive in time', () => {
  it('a body shorter than its Content-Length → 408 request-timeout, with the request id', async () => {
    const answer = await raw(
      `PUT ${row} HTTP/1.1\r\nHost: x\r\nX-Request-Id: fw-slow-body\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"onHand":`,
    );
    expectProblem(answer, 408, 'request-timeout');
    expect(answer.body).toMatchObject({ requestId: 'fw-slow-body', instance: row });
  });

  it('headers that never end → 408 request-timeout', async () => {
    expectProblem(await raw(`GET ${row} HTTP/1.1\r\nHost: x\r\n`), 408, 'request-timeout');
  });

  it('a connection that sends nothing → 408 request-timeout', async () => {
    expectProblem(await raw(''), 408, 'request-timeout');
  });

  it('left the row unchanged', async () => {
    expect((await call(region, 'GET', row)).status).toBe(404);
  });
});
