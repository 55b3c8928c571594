import { setTimeout as sleep } from 'node:timers/promises';

/** Exponential backoff between retries of a background loop: 200 ms doubling up to 5 s. */
export class Backoff {
  private delayMs = 0;

  constructor(
    private readonly initialMs = 200,
    private readonly maxMs = 5_000,
  ) {}

  async wait(signal?: AbortSignal): Promise<void> {
    this.delayMs = this.delayMs === 0 ? this.initialMs : Math.min(this.delayMs * 2, this.maxMs);
    await sleep(this.delayMs, undefined, { signal }).catch(() => undefined);
  }

  reset(): void {
    this.delayMs = 0;
  }
}
