import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { TokenBucket, type TakeResult } from './token-bucket.js';

/**
 * Most buckets kept at once. Past it the least recently used one is dropped, which at worst gives
 * that client a fresh (full) bucket: memory stays bounded whatever addresses or key ids arrive.
 * A bucket is about 200 bytes, so this is some 20 MB at most.
 */
export const MAX_BUCKETS = 100_000;
/** Idle buckets looked at per request: enough to keep up with the requests that add buckets. */
const EVICT_PER_TAKE = 4;

/** Counts of this process, for logs and tests (and a metrics exporter later). */
export interface RateLimitCounters {
  readonly allowed: number;
  readonly refused: number;
  readonly buckets: number;
}

/**
 * Token buckets per caller (an API key id, or a client address), in this process's memory: each
 * region process limits what reaches it, so N instances of a region behind a balancer let a key
 * make up to N times the rate (see docs/security.md, "Limits").
 *
 * Buckets are kept in least-recently-used order (a Map keeps insertion order; a used bucket is
 * moved to the end). An idle bucket that has refilled is the same as none, so the oldest ones are
 * dropped as soon as they are full, a few per request.
 */
@Injectable()
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private allowed = 0;
  private refused = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Takes one request's token from `caller`'s bucket. */
  take(caller: string): TakeResult {
    const now = this.clock.now();
    const { ratePerSecond, burst } = this.config.limits;
    let bucket = this.buckets.get(caller);
    if (bucket) this.buckets.delete(caller);
    else bucket = new TokenBucket(ratePerSecond, burst, now);
    this.buckets.set(caller, bucket);
    const result = bucket.take(now);
    if (result.allowed) this.allowed++;
    else this.refused++;
    this.evict(now);
    return result;
  }

  counters(): RateLimitCounters {
    return { allowed: this.allowed, refused: this.refused, buckets: this.buckets.size };
  }

  private evict(now: number): void {
    let looked = 0;
    for (const [caller, bucket] of this.buckets) {
      if (this.buckets.size <= MAX_BUCKETS && (looked++ >= EVICT_PER_TAKE || !bucket.isFull(now))) return;
      this.buckets.delete(caller);
    }
  }
}

/** Whether a key is above rate limits and reservation quotas: an `admin` key, when STOCKMESH_LIMITS_EXEMPT_ADMIN says so. */
export function exemptFromLimits(config: AppConfig, principal: { readonly scopes: readonly string[] }): boolean {
  return config.limits.exemptAdmin && principal.scopes.includes('admin');
}
