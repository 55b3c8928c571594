import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/** The request whose work the current async flow is doing. */
interface RequestScope {
  readonly requestId: string;
}

const scope = new AsyncLocalStorage<RequestScope>();
/** Fastify's per-request loggers: they carry `reqId` in their bindings already. */
const REQUEST_LOGGERS = new WeakSet<object>();

/** The id of the request being served by the current async flow, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}

/**
 * pino's `mixin`: adds `reqId` to a line written while serving a request (a service's `Logger`,
 * Nest's own messages), so every line of a request can be found by its id, not only Fastify's
 * access lines. Those come from Fastify's request logger, which has `reqId` bound already.
 */
export function requestIdMixin(_merge: object, _level: number, logger: object): object {
  const requestId = scope.getStore()?.requestId;
  return requestId === undefined || REQUEST_LOGGERS.has(logger) ? {} : { reqId: requestId };
}

/** Fastify's `childLoggerFactory`: the usual child, remembered so that `requestIdMixin` does not repeat its `reqId`. */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  const child = logger.child(bindings, options);
  REQUEST_LOGGERS.add(child);
  return child;
}

/**
 * Runs each request's lifecycle inside its request scope. Entered when the request arrives, and
 * entered again once the body is parsed: the body comes from stream events of the connection, and
 * a parser that resumes from one of them would otherwise run the rest outside the scope. (On
 * Node 20 and Fastify 5 the scope survived parsing in every test, a body in slow parts too; the
 * second entry costs nothing and does not depend on that.)
 */
export function scopeRequests(fastify: FastifyInstance): void {
  const enter = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    scope.run({ requestId: String(request.id) }, done);
  };
  fastify.addHook('onRequest', enter);
  fastify.addHook('preValidation', enter);
}
