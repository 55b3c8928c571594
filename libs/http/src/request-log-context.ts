import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';
import { continueTrace, TRACEPARENT_HEADER, traceparentOf, type TraceContext } from './trace-context.js';

/** The request whose work the current async flow is doing, and its place in a trace. */
interface RequestScope {
  readonly requestId: string;
  readonly trace: TraceContext;
}

const scope = new AsyncLocalStorage<RequestScope>();
/** Each request's scope, made once when it arrives (the scope is entered twice, see scopeRequests). */
const SCOPES = new WeakMap<FastifyRequest, RequestScope>();
/** Fastify's per-request loggers: they carry `reqId` in their bindings already. */
const REQUEST_LOGGERS = new WeakSet<object>();

/** The id of the request being served by the current async flow, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}

/**
 * Runs `work` as a request would run: its log lines carry `requestId` and the trace, and the
 * events and region calls it makes carry the trace on. For work that arrives by Kafka (a
 * command with a `ce_traceparent`), which Fastify's hooks never see.
 */
export function withTrace<T>(requestId: string, traceparent: string | undefined, work: () => Promise<T>): Promise<T> {
  return scope.run({ requestId, trace: continueTrace(traceparent) }, work);
}

/**
 * Runs `work` outside any request: for work done on behalf of several requests at once (a
 * group-committed batch of holds), whose log lines and events must not name one of them.
 */
export function outsideRequests<T>(work: () => T): T {
  return scope.exit(work);
}

/** A function that runs work in the request scope current now (or none), wherever it is called later. */
export function currentScopeRunner(): <T>(work: () => T) => T {
  const current = scope.getStore();
  return current === undefined ? (work) => scope.exit(work) : (work) => scope.run(current, work);
}

/**
 * The `traceparent` a call made now continues (W3C Trace Context): the current request's trace,
 * with its span as the parent. `undefined` outside a request (background work starts no trace).
 */
export function currentTraceparent(): string | undefined {
  const trace = scope.getStore()?.trace;
  return trace && traceparentOf(trace);
}

/**
 * pino's `mixin`: adds `traceId` and `spanId` to every line written while serving a request, and
 * `reqId` to those not written by Fastify's request logger (which has it bound already): a
 * service's `Logger`, Nest's own messages. Every line of a request can be found by its id, and
 * every line of a checkout, in every region it reached, by its trace id.
 */
export function requestIdMixin(_merge: object, _level: number, logger: object): object {
  const current = scope.getStore();
  if (current === undefined) return {};
  const trace = { traceId: current.trace.traceId, spanId: current.trace.spanId };
  return REQUEST_LOGGERS.has(logger) ? trace : { reqId: current.requestId, ...trace };
}

/** Fastify's `childLoggerFactory`: the usual child, remembered so that `requestIdMixin` does not repeat its `reqId`. */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  const child = logger.child(bindings, options);
  REQUEST_LOGGERS.add(child);
  return child;
}

/**
 * Runs each request's lifecycle inside its request scope: its id, and its span of the trace its
 * `traceparent` header names (a new trace without one). Entered when the request arrives, and
 * entered again once the body is parsed: the body comes from stream events of the connection, and
 * a parser that resumes from one of them would otherwise run the rest outside the scope. (On
 * Node 20 and Fastify 5 the scope survived parsing in every test, a body in slow parts too; the
 * second entry costs nothing and does not depend on that.)
 */
export function scopeRequests(fastify: FastifyInstance): void {
  const enter = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    let current = SCOPES.get(request);
    if (current === undefined) {
      const header = request.headers[TRACEPARENT_HEADER];
      current = { requestId: String(request.id), trace: continueTrace(typeof header === 'string' ? header : undefined) };
      SCOPES.set(request, current);
    }
    scope.run(current, done);
  };
  fastify.addHook('onRequest', enter);
  fastify.addHook('preValidation', enter);
}
