import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns something other than `undefined`, or fails after `timeoutMs`
 * with the last value `describe` gives: tests wait for a state, never for a fixed time.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string; describe?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const last = options.describe ? `; last seen: ${await options.describe()}` : '';
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}${last}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
