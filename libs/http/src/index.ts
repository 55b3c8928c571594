export { HttpRoutingModule } from './http.module.js';
export {
  OwnerDirectory,
  OwnerRoutingInterceptor,
  RegionForwarder,
  RouteToOwner,
  RoutingException,
  type OwnerLocator,
} from './owner-routing.js';
export { classify, problemBody, ProblemDetailsFilter } from './problem-details.filter.js';
export { actorOf, Idempotency, idempotentRequestOf, Origin, RequestHeaderException, type RequestOrigin } from './request-context.js';
export { applyHttpConventions } from './http-conventions.js';
export { createValidationPipe, fieldErrors, INPUT_VALIDATION, ValidationProblem } from './validation.js';
export { idempotentAnswer } from './json-answer.js';
export { requestIdOf } from './request-id.js';
export { createLogger, NestPinoLogger } from './logging.js';
export * from './region-trust/index.js';
