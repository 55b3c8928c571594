export { HEADERS } from './http-headers.js';
export { ADJUSTMENT_REASONS, IDENTIFIER_MAX_LENGTH, IDENTIFIER_PATTERN, MAX_QUANTITY, type AdjustmentReason } from './identifiers.js';
export { CodedException, PROBLEM_TYPES, problemType, type FieldError, type ProblemCode, type ProblemDetails } from './problems.js';
export * from './events/index.js';
