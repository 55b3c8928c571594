export { attachCaller, callerOf, internalCallOf, markInternalCall, type InternalCall } from './internal-call.js';
export { RegionCaller, type RegionAnswer } from './region-caller.js';
export { RegionRequestVerifier } from './region-request-verifier.js';
export { RegionSigner, type RegionCallContext } from './region-signer.js';
export {
  canonicalRequest,
  decodeCaller,
  encodeCaller,
  sha256Of,
  signatureOf,
  signRequest,
  type CallerIdentity,
  type SignedRequestParts,
  type SignOptions,
} from './region-signature.js';
export { RegionTrustException } from './region-trust.exception.js';
export { RegionTrustModule } from './region-trust.module.js';
export { ReplayGuard } from './replay-guard.js';
