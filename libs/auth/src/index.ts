export { API_SCOPES, type ApiScope } from '@stockmesh/contracts';
export { ApiKeyListView, ApiKeyView, CreatedApiKeyView } from './api-key.js';
export { hashSecret, issueKey, KEY_PREFIX, parseKey } from './api-key-secret.js';
export { ApiKeysService, BOOTSTRAP_PRINCIPAL, KEY_CACHE_MS } from './api-keys.service.js';
export { AuthErrorCode, AuthException } from './auth.exception.js';
export { AuthModule } from './auth.module.js';
export {
  API_KEY_SECURITY,
  InternalRoute,
  PublicOperation,
  PublicRoute,
  RequireScope,
  ROUTE_ACCESS,
  ScopedOperation,
  type OperationDoc,
  type RouteAccess,
} from './route-access.js';
export { exemptFromLimits, MAX_BUCKETS, RateLimiter, type RateLimitCounters } from './rate-limit/rate-limiter.js';
export { TokenBucket, type TakeResult } from './rate-limit/token-bucket.js';
