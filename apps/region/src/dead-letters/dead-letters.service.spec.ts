import { describe, expect, it } from '@jest/globals';
import { commandStillRemembered } from './dead-letters.service.js';

const HOUR = 3_600_000;

describe('replaying a dead-lettered command', () => {
  it('is allowed only while its id is remembered, less an hour', () => {
    const at = Date.parse('2026-12-07T00:00:00Z');
    expect(commandStillRemembered(at, at, 24 * HOUR)).toBe(true);
    expect(commandStillRemembered(at, at + 23 * HOUR, 24 * HOUR)).toBe(true);
    expect(commandStillRemembered(at, at + 23 * HOUR + 1, 24 * HOUR)).toBe(false);
    expect(commandStillRemembered(at, at + 30 * 24 * HOUR, 24 * HOUR)).toBe(false);
    // A retention of an hour leaves no window at all.
    expect(commandStillRemembered(at, at + 1, HOUR)).toBe(false);
  });
});
