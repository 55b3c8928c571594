import { HEADERS, type ProblemCode } from '@stockmesh/contracts';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { classify, PROBLEM_CONTENT_TYPE, problemAnswerBody } from './problem-details.filter.js';
import { requestIdOf } from './request-id.js';

/** How long and how large a request may be before the HTTP server itself refuses it. */
export interface HttpServerLimits {
  /** Longest a client may take to send a whole request, headers and body, in ms: then 408. */
  readonly requestTimeoutMs: number;
  /** Longest a client may take to send the request line and headers, in ms (at most `requestTimeoutMs`): then 408. */
  readonly headersTimeoutMs: number;
  /** Longest nothing may move on a connection while its answer is due (not read), in ms: then it is closed without an answer. */
  readonly connectionTimeoutMs: number;
  /** Largest request line plus headers, in bytes: then 431. */
  readonly maxHeaderBytes: number;
  /** Longest path parameter (e.g. a SKU in a URL), in characters: then 414. */
  readonly maxParamLength: number;
}

/**
 * Without a timeout Fastify waits forever for a request's body (its default `requestTimeout` is
 * 0), so a client trickling bytes holds a socket and a parser: 30 s for a body of at most
 * `STOCKMESH_BODY_LIMIT` (64 KiB) is generous even on a bad mobile link, and headers, which any
 * client sends at once, get 10 s (a connection opened and left silent gets its 408 then too). A
 * connection on which nothing moves for 5 minutes (a client that stopped reading its answer) is
 * closed; that must be longer than any answer may take on a loaded region, since the socket is
 * idle while the handler works too (at 60 s, a saturated region closed connections of requests
 * it was still serving, without an answer). Node's own header limit (16 KiB) and Fastify's parameter limit
 * (100 characters, above every identifier's bound) are kept, and stated here.
 */
export const DEFAULT_HTTP_SERVER_LIMITS: HttpServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  connectionTimeoutMs: 300_000,
  maxHeaderBytes: 16 * 1024,
  maxParamLength: 100,
};

/** The options of the Fastify server that make its own refusals problem details like the rest. */
export interface FrameworkServerOptions {
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
  readonly http: ServerOptions;
  readonly routerOptions: { readonly maxParamLength: number };
  readonly frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void;
  readonly clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => void;
}

/**
 * Fastify options (for `new FastifyAdapter({...})`) applying `limits`, and answering what the
 * router and Node's HTTP parser refuse, before any route or hook runs, with problem details.
 */
export function frameworkServerOptions(regionId: string, logger: Logger, limits: HttpServerLimits): FrameworkServerOptions {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    http: {
      // Node enforces the request timeout only when the headers timeout is not longer (Fastify
      // sets `requestTimeout` after creating the server, so both are also given here), and checks
      // both only every `connectionsCheckingInterval` (30 s by default, far too coarse).
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout,
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
      maxHeaderSize: limits.maxHeaderBytes,
    },
    routerOptions: { maxParamLength: limits.maxParamLength },
    frameworkErrors: answerFrameworkError(regionId),
    clientErrorHandler: answerClientError(regionId, logger, limits),
  };
}

/**
 * Fastify's router refuses a URL with bad percent-encoding (400) or an over-long path parameter
 * (414) before any hook or error handler is in place; this answers them like the filter does.
 * It replaces the adapter's own handler, which only adds the headers of Nest's built-in security
 * features (not used here) before letting Fastify answer in plain JSON.
 */
function answerFrameworkError(regionId: string): FrameworkServerOptions['frameworkErrors'] {
  return (error, request, reply) => {
    const id = String(request.id);
    const problem = classify(error);
    void reply
      .code(problem.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .header(HEADERS.requestId, id)
      .header(HEADERS.servedBy, regionId)
      .send(JSON.stringify(problemAnswerBody(problem, { id, url: request.url })));
  };
}

/**
 * Node's HTTP server refuses bytes it cannot parse (bad `Content-Length`, header overflow, ...)
 * and requests that do not arrive within the timeouts by emitting `clientError` with the socket,
 * before Fastify has a request (the socket stays writable). Fastify's default handler writes a
 * plain JSON answer; this one writes the same problem details as every other refusal, then closes
 * the connection, as Node and Fastify do: after a parse error nothing more can be read from it.
 */
function answerClientError(regionId: string, logger: Logger, limits: HttpServerLimits): FrameworkServerOptions['clientErrorHandler'] {
  return (error, socket) => {
    // The client is gone: there is no one to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    // Node's response of the request in progress on this socket, if its headers had arrived
    // (a timeout while the body trickles in); `_httpMessage` is where Node keeps it.
    const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
    const id = response ? requestIdOf(response.req) : randomUUID();
    const classified = classify(error);
    const problem = { ...classified, detail: clientErrorDetail(classified.code, response !== undefined, limits) ?? classified.detail };
    // Not `err`: a parse error carries the raw bytes it choked on (up to the 16 KiB header limit).
    logger.info(
      { reqId: id, problem: problem.code, error: { code: error.code, message: error.message }, remoteAddress: socket.remoteAddress },
      'refused a request before routing it',
    );
    // An answer already started cannot be replaced: the connection is only closed.
    if (socket.writable && !response?.headersSent) {
      const body = JSON.stringify(problemAnswerBody(problem, { id, url: response?.req.url }));
      socket.write(
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `${HEADERS.requestId}: ${id}\r\n` +
          `${HEADERS.servedBy}: ${regionId}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy();
  };
}

/** What the limit was, for the refusals whose Node message does not say it. */
function clientErrorDetail(code: ProblemCode, headersArrived: boolean, limits: HttpServerLimits): string | undefined {
  if (code === 'request-timeout')
    return headersArrived
      ? `the request body did not arrive within ${limits.requestTimeoutMs} ms`
      : `the request line and headers did not arrive within ${Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)} ms`;
  if (code === 'headers-too-large') return `the request line and headers exceed ${limits.maxHeaderBytes} bytes`;
  return undefined;
}
