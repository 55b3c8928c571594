/** The first wait after an owner did not answer; it doubles with every attempt. */
export const RETRY_BASE_MS = 5_000;
/** The longest wait between two attempts at one allocation. */
export const RETRY_MAX_MS = 300_000;

/**
 * How long an allocation waits after its `attempts`-th attempt failed: 5 s doubling to 5 min,
 * stretched by up to a quarter (`jitter` in [0, 1)) so that the holds of an owner that comes back
 * are not all asked again in the same instant.
 */
export function retryDelayMs(attempts: number, jitter: number): number {
  const doublings = Math.min(Math.max(attempts - 1, 0), 16);
  return Math.min(RETRY_BASE_MS * 2 ** doublings, RETRY_MAX_MS) * (1 + Math.min(Math.max(jitter, 0), 1) / 4);
}
