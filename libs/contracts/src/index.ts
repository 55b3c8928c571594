export { API_KEY_ID_PATTERN, API_KEY_NAME_PATTERN, API_SCOPES, mayUseSafetyStock, type ApiScope } from './api-keys.js';
export { HEADERS, REGION_ONLY_HEADERS } from './http-headers.js';
export {
  ADJUSTMENT_REASONS,
  coordinatorOf,
  EXPECTED_DATE_PATTERN,
  HOLD_ID_PATTERN,
  IDENTIFIER_MAX_LENGTH,
  IDENTIFIER_PATTERN,
  isExpectedDate,
  MAX_CHANNEL_WAREHOUSES,
  MAX_INCOMING_RECEIPTS,
  MAX_KIT_COMPONENTS,
  MAX_KIT_COMPONENT_QUANTITY,
  MAX_QUANTITY,
  MAX_RESERVATION_LINES,
  RESERVATION_ID_PATTERN,
  RESERVATION_TTL,
  sourceRegionOf,
  TRANSFER_ID_PATTERN,
  type AdjustmentReason,
} from './identifiers.js';
export { CodedException, PROBLEM_TYPES, problemType, type FieldError, type ProblemCode, type ProblemDetails } from './problems.js';
export * from './events/index.js';
