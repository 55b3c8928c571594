/** What one request costs the bucket: allowed, or how long until it would be. */
export type TakeResult = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * A token bucket: it holds at most `burst` tokens, refills at `ratePerSecond`, and each request
 * takes one. A client that keeps under the rate is never refused; one that stops for a while may
 * then send `burst` requests at once. Unlike a fixed window there is no edge at which twice the
 * rate gets through, and the refusal can say exactly when the next token comes (Retry-After).
 * Time is passed in (milliseconds, from the injected clock), never read here.
 */
export class TokenBucket {
  private tokens: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private last: number,
  ) {
    this.tokens = burst;
  }

  take(now: number): TakeResult {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: ((1 - this.tokens) * 1000) / this.ratePerSecond };
  }

  /** A full bucket behaves exactly like a new one: it can be forgotten without anyone noticing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    // A clock that steps back gives nothing and takes nothing.
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.last = Math.max(this.last, now);
  }
}
