/**
 * Remembers the nonces of accepted signed calls for as long as their timestamp is inside the
 * window, so that an exact replay (same nonce) is refused while a replay with the timestamp
 * moved breaks the signature. Past the window the timestamp alone refuses a replay, so nothing
 * older needs remembering. Only calls whose signature is valid get here: only regions fill it.
 */
export class ReplayGuard {
  /** nonce → the time after which its timestamp is out of the window anyway. */
  private readonly seen = new Map<string, number>();
  private nextPurgeAt = 0;
  /** Nonces already let in a second time: never a third. */
  private readonly forgiven = new Set<string>();

  constructor(private readonly windowMs: number) {}

  /** True the first time `nonce` is seen (and remembers it); false for a replay. */
  firstUse(nonce: string, timestamp: number, now: number): boolean {
    this.purge(now);
    const until = this.seen.get(nonce);
    if (until !== undefined && until >= now) return false;
    this.seen.set(nonce, timestamp + this.windowMs);
    return true;
  }

  /** Forgets `nonce` once, so that the same call is accepted one more time. */
  forgiveOnce(nonce: string): void {
    if (this.forgiven.has(nonce)) return;
    this.forgiven.add(nonce);
    this.seen.delete(nonce);
  }

  /** How many nonces are remembered (for tests and metrics). */
  get size(): number {
    return this.seen.size;
  }

  /** At most once a second: forgets the nonces whose calls are out of the window. */
  private purge(now: number): void {
    if (now < this.nextPurgeAt) return;
    this.nextPurgeAt = now + 1_000;
    for (const [nonce, until] of this.seen) {
      if (until < now) {
        this.seen.delete(nonce);
        this.forgiven.delete(nonce);
      }
    }
  }
}
