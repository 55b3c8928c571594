import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, REGION_ID_PATTERN, type AppConfig } from '@stockmesh/config';
import { HEADERS } from '@stockmesh/contracts';
import type { FastifyRequest } from 'fastify';
import type { InternalCall } from './internal-call.js';
import { RegionTrustException } from './region-trust.exception.js';
import { decodeCaller, signatureMatches, type SignedRequestParts } from './region-signature.js';
import { ReplayGuard } from './replay-guard.js';

const TIMESTAMP_PATTERN = /^\d{1,16}$/;
const NONCE_PATTERN = /^[\w-]{16,64}$/;
const DIGEST_PATTERN = /^[\w-]{43}$/;
const SIGNATURE_PATTERN = /^v1=[\w-]{43}$/;

function single(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? undefined : value;
}

function refuse(reason: string): RegionTrustException {
  return new RegionTrustException('region-unauthenticated', reason);
}

/**
 * Checks that a request to the internal listener was signed by a region of this cluster, for this
 * region, within the clock-skew window, and not seen before. The body's digest is checked against
 * the signed one once the body has been read (`checkBody`).
 */
@Injectable()
export class RegionRequestVerifier {
  private readonly replays: ReplayGuard;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    // A nonce must be remembered while its timestamp is acceptable: up to maxSkew past it.
    this.replays = new ReplayGuard(config.regionTrust.maxSkewMs);
  }

  /** The authenticated call `request` is; throws `region-unauthenticated` (401) otherwise. */
  verify(request: FastifyRequest): InternalCall & { readonly contentSha256: string; readonly nonce: string } {
    const secret = this.config.regionTrust.secret;
    if (!secret) throw refuse('this region has no cluster secret and accepts no internal call');
    const from = single(request, HEADERS.region);
    const timestamp = single(request, HEADERS.timestamp);
    const nonce = single(request, HEADERS.nonce);
    const contentSha256 = single(request, HEADERS.contentSha256);
    const signature = single(request, HEADERS.signature);
    if (from === undefined || timestamp === undefined || nonce === undefined || contentSha256 === undefined || signature === undefined) {
      throw refuse(
        `a region call needs the headers ${[HEADERS.region, HEADERS.timestamp, HEADERS.nonce, HEADERS.contentSha256, HEADERS.signature].join(', ')}`,
      );
    }
    if (!REGION_ID_PATTERN.test(from) || !this.config.cluster.regions.some((r) => r.id === from)) {
      throw refuse('the calling region is not in this cluster');
    }
    if (
      !TIMESTAMP_PATTERN.test(timestamp) ||
      !NONCE_PATTERN.test(nonce) ||
      !DIGEST_PATTERN.test(contentSha256) ||
      !SIGNATURE_PATTERN.test(signature)
    ) {
      throw refuse('a region-call header is malformed');
    }
    const now = this.clock.now();
    const at = Number(timestamp);
    if (Math.abs(now - at) > this.config.regionTrust.maxSkewMs) {
      throw refuse(`the call's timestamp is more than ${this.config.regionTrust.maxSkewMs / 1000} s from this region's clock`);
    }
    const forwardedFrom = single(request, HEADERS.forwardedFrom);
    const callerHeader = single(request, HEADERS.caller);
    const parts: SignedRequestParts = {
      method: request.method,
      path: request.url,
      to: this.config.region.id,
      from,
      timestamp: at,
      nonce,
      contentSha256,
      requestId: single(request, HEADERS.requestId),
      idempotencyKey: single(request, HEADERS.idempotencyKey),
      forwardedFrom,
      caller: callerHeader,
    };
    // Any accepted key will do: during a rotation, regions sign with different ones for a while.
    if (!secret.accepted().some((key) => signatureMatches(key, parts, signature))) throw refuse('the signature does not match');
    // A forwarded request names its forwarder, which must be the signer.
    if (forwardedFrom !== undefined && forwardedFrom !== from)
      throw refuse('a forwarded call must be signed by the region that forwarded it');
    const caller = callerHeader === undefined ? undefined : decodeCaller(callerHeader);
    if (callerHeader !== undefined && caller === undefined) throw refuse(`${HEADERS.caller} is not a caller identity`);
    // Last: a call refused for another reason does not use up its nonce.
    if (!this.replays.firstUse(nonce, at, now)) throw refuse('this signed call was already received (replay)');
    return { region: from, forwardedFrom, caller, contentSha256, nonce };
  }

  /**
   * Lets the call with `nonce` in once more. For a 421 answer only: `fetch` (the Fetch standard)
   * sends a request answered 421 again by itself, with the same headers, and that retry must meet
   * the same 421 rather than a replay 401. A 421 changed nothing, so its repetition is harmless.
   */
  forgiveRetry(nonce: string): void {
    this.replays.forgiveOnce(nonce);
  }
}
