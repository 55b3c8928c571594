export { HttpRoutingModule } from './http.module.js';
export {
  OwnerDirectory,
  ChannelDirectory,
  OwnerRoutingInterceptor,
  RegionForwarder,
  RouteToOwner,
  RoutingException,
  type OwnerLocator,
} from './owner-routing.js';
export { classify, problemBody, ProblemDetailsFilter } from './problem-details.filter.js';
export { DEFAULT_HTTP_SERVER_LIMITS, frameworkServerOptions, type HttpServerLimits } from './framework-errors.js';
export {
  actorOf,
  Idempotency,
  idempotentRequestOf,
  Origin,
  Principal,
  principalOf,
  RequestHeaderException,
  setPrincipal,
  type RequestOrigin,
  type RequestPrincipal,
} from './request-context.js';
export { canonicalResource, idempotencyScope, type ScopedCall } from './idempotency-scope.js';
export { ANONYMOUS_PRINCIPAL, principalIdOf } from './principal.js';
export { applyHttpConventions } from './http-conventions.js';
export { createValidationPipe, fieldErrors, INPUT_VALIDATION, ValidationProblem } from './validation.js';
export { idempotentAnswer } from './json-answer.js';
export { requestIdOf } from './request-id.js';
export { createLogger, NestPinoLogger } from './logging.js';
export {
  currentRequestId,
  currentScopeRunner,
  currentTraceparent,
  outsideRequests,
  requestLogger,
  scopeRequests,
  withTrace,
} from './request-log-context.js';
export { continueTrace, TRACEPARENT_HEADER, traceparentOf, type TraceContext } from './trace-context.js';
export * from './region-trust/index.js';
export {
  ApiProblemResponse,
  ApiProblems,
  BODY_PROBLEMS,
  IDEMPOTENCY_PROBLEMS,
  IDEMPOTENT_BODY_PROBLEMS,
  PROBLEM_CODES_EXTENSION,
  PROBLEM_MEDIA_TYPE,
  ProblemView,
  SERVER_PROBLEMS,
} from './api-problems.js';
