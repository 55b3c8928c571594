import { describe, expect, it } from '@jest/globals';
import { ReplayGuard } from './replay-guard.js';

describe('ReplayGuard', () => {
  const window = 30_000;
  const t0 = 1_800_000_000_000;

  it('accepts a nonce once inside the window', () => {
    const guard = new ReplayGuard(window);
    expect(guard.firstUse('n1', t0, t0)).toBe(true);
    expect(guard.firstUse('n1', t0, t0 + 1)).toBe(false);
    expect(guard.firstUse('n2', t0, t0 + 1)).toBe(true);
  });

  it('lets a forgiven nonce in exactly once more (fetch repeats a 421 by itself)', () => {
    const guard = new ReplayGuard(window);
    expect(guard.firstUse('n1', t0, t0)).toBe(true);
    guard.forgiveOnce('n1');
    expect(guard.firstUse('n1', t0, t0 + 1)).toBe(true);
    guard.forgiveOnce('n1');
    expect(guard.firstUse('n1', t0, t0 + 2)).toBe(false);
  });

  it('forgets nonces whose timestamp left the window, so memory stays bounded', () => {
    const guard = new ReplayGuard(window);
    for (let i = 0; i < 100; i++) guard.firstUse(`n${i}`, t0, t0);
    expect(guard.size).toBe(100);
    guard.firstUse('late', t0 + window + 2_000, t0 + window + 2_000);
    expect(guard.size).toBe(1);
  });
});
