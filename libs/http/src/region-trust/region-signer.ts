import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { randomUUID } from 'node:crypto';
import { currentTraceparent } from '../request-log-context.js';
import { TRACEPARENT_HEADER } from '../trace-context.js';
import { RegionTrustException } from './region-trust.exception.js';
import { signRequest, type CallerIdentity } from './region-signature.js';

/** What a region call carries besides method, URL and body. */
export interface RegionCallContext {
  readonly requestId?: string;
  readonly idempotencyKey?: string;
  /** Set on a client's request forwarded to its owner. */
  readonly forwarded?: boolean;
  readonly caller?: CallerIdentity;
}

/** Signs this region's calls to the others' internal listeners with the cluster secret. */
@Injectable()
export class RegionSigner {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * The headers for one attempt of a call to region `to` at `url`, whose body will be exactly
   * `body`, with the current request's `traceparent` when there is one. Throws when this region has no cluster secret (it cannot call other regions then).
   */
  headersFor(to: string, method: string, url: URL, body: string | undefined, context: RegionCallContext = {}): Record<string, string> {
    const secret = this.config.regionTrust.secret;
    if (!secret) throw new RegionTrustException('region-unauthenticated', 'no cluster secret is configured (STOCKMESH_CLUSTER_SECRET)');
    const self = this.config.region.id;
    const headers = signRequest(method, `${url.pathname}${url.search}`, body, {
      secret: secret.reveal(),
      from: self,
      to,
      now: this.clock.now(),
      // Always one: without it the receiver would make one up and write it into the signed headers.
      requestId: context.requestId ?? randomUUID(),
      idempotencyKey: context.idempotencyKey,
      forwardedFrom: context.forwarded ? self : undefined,
      caller: context.caller,
    });
    // The trace of the request that makes the call (W3C Trace Context): not signed, as it grants
    // nothing; it only lets the owner's log lines be found with the caller's.
    const traceparent = currentTraceparent();
    if (traceparent !== undefined) headers[TRACEPARENT_HEADER] = traceparent;
    return headers;
  }
}
