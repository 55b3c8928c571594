import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { CodedException, HEADERS, PROBLEM_TYPES, problemType, type ProblemCode, type ProblemDetails } from '@stockmesh/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { frameworkProblemCode } from './framework-error-codes.js';
import type { RouteTable } from './route-table.js';
import { internalCallOf } from './region-trust/internal-call.js';

/** Connection refused, and PostgreSQL's admin shutdown, cannot-connect-now and connection failures. */
const DATABASE_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

/** A status with no better-known code: the generic code for it. */
function codeForStatus(status: number): ProblemCode {
  switch (status) {
    case 404:
      return 'not-found';
    case 413:
      return 'payload-too-large';
    case 415:
      return 'unsupported-media-type';
    case 503:
      return 'not-ready';
    default:
      return status >= 400 && status < 500 ? 'validation-failed' : 'internal-error';
  }
}

export interface Classified {
  readonly code: ProblemCode;
  readonly status: number;
  readonly detail?: string;
  readonly extensions: Readonly<Record<string, unknown>>;
}

/** Maps anything thrown to a problem code; unknown errors are 500s. */
export function classify(exception: unknown): Classified {
  if (exception instanceof CodedException) {
    const code: ProblemCode = (exception as CodedException).code;
    return { code, status: PROBLEM_TYPES[code].status, detail: exception.message, extensions: exception.extensions };
  }
  // Nest wraps Fastify's own request errors (body parsing, media type, size) in an
  // HttpException whose cause carries Fastify's code; the router's and Node's come bare.
  const error = (exception instanceof HttpException ? (exception.cause ?? exception) : exception) as {
    code?: unknown;
    statusCode?: unknown;
    message?: unknown;
    name?: unknown;
  };
  const frameworkCode = typeof error.code === 'string' ? frameworkProblemCode(error.code) : undefined;
  if (frameworkCode)
    return { code: frameworkCode, status: PROBLEM_TYPES[frameworkCode].status, detail: String(error.message), extensions: {} };
  const status = exception instanceof HttpException ? exception.getStatus() : error.statusCode;
  if (exception instanceof HttpException && status === 503) {
    // A health check that failed: its body says which check, so it goes along.
    const details = exception.getResponse();
    return { code: 'not-ready', status, extensions: typeof details === 'object' && details !== null ? { checks: details } : {} };
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // The JSON parser refuses prototype-poisoning keys ("__proto__", "constructor") with a 400.
    const malformed = error.name === 'SyntaxError' || /prototype property/.test(String(error.message));
    return { code: malformed ? 'malformed-json' : codeForStatus(status), status, detail: String(error.message), extensions: {} };
  }
  // A database of the region is down or restarting: the region cannot serve this request now.
  if (typeof error.code === 'string' && DATABASE_DOWN.has(error.code)) return { code: 'not-ready', status: 503, extensions: {} };
  // pg-pool gives up waiting for a free connection, PostgreSQL has none left for us (53300
  // too_many_connections), or a transaction lost to contention three times (deadlock 40P01,
  // serialization 40001): the region is saturated, not broken, and the request can be retried.
  if (
    error.message === 'timeout exceeded when trying to connect' ||
    error.code === '53300' ||
    error.code === '40P01' ||
    error.code === '40001'
  )
    return { code: 'busy', status: 503, detail: 'no database connection came free in time', extensions: {} };
  // SMF01: the SKU's shard is paused for a move's cutover (see ShardMover); retried already.
  if (error.code === 'SMF01') return { code: 'busy', status: 503, detail: 'the shard is moving to another database', extensions: {} };
  return { code: 'internal-error', status: 500, extensions: {} };
}

/** A problem details body for a code, e.g. to store as the answer of a refused idempotent request. */
export function problemBody(code: ProblemCode, detail: string, extensions: Readonly<Record<string, unknown>> = {}): ProblemDetails {
  return { ...extensions, type: problemType(code), title: PROBLEM_TYPES[code].title, status: PROBLEM_TYPES[code].status, detail, code };
}

/**
 * The problem details body answering a request with a classified error. `url` is absent when
 * the request could not be parsed (Node's HTTP parser refused it before there was one).
 */
export function problemAnswerBody(problem: Classified, request: { readonly id: string; readonly url?: string }): ProblemDetails {
  const { code, status, detail, extensions } = problem;
  return {
    ...extensions,
    type: problemType(code),
    title: PROBLEM_TYPES[code].title,
    status,
    ...(status < 500 && detail ? { detail } : {}),
    ...(request.url !== undefined ? { instance: request.url } : {}),
    code,
    requestId: request.id,
  };
}

/** The media type of every problem details answer. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/**
 * The only place errors become HTTP answers: every error is an RFC 9457 problem details body
 * (`application/problem+json`) with a stable `type` and `code`. Internal errors are logged with
 * their stack and answered without it. The errors Fastify's router and Node's HTTP parser answer
 * before Nest sees the request take the same shape through framework-errors.ts.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  /** `routes` tells an unknown path (404) from a known one asked with another method (405). */
  constructor(private readonly routes?: RouteTable) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    let problem = classify(exception);
    // Nest answers a request no route took with a NotFoundException; `is404` says it was that.
    if (problem.code === 'not-found' && request.is404 && this.routes) {
      const path = request.url.split('?')[0] ?? '';
      // On the public listener the internal API does not exist at all: no 405 that names its methods.
      const hidden = path.startsWith('/internal/') && internalCallOf(request) === undefined;
      const allowed = hidden ? [] : this.routes.methodsAt(path);
      if (allowed.length > 0) {
        void reply.header('allow', allowed.join(', '));
        problem = {
          code: 'method-not-allowed',
          status: 405,
          detail: `${request.method} is not allowed here; allowed: ${allowed.join(', ')}`,
          extensions: { allow: allowed },
        };
      }
    }
    if (problem.status >= 500) request.log.error({ err: exception }, 'request failed');
    if (problem.code === 'busy') void reply.header('retry-after', '1');
    if (reply.sent) return;
    void reply
      .status(problem.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .header(HEADERS.requestId, String(request.id))
      .send(problemAnswerBody(problem, { id: String(request.id), url: request.url }));
  }
}
