/** The time, injected so that expiry and lag logic can be tested without sleeping. */
export abstract class Clock {
  /** Milliseconds since the epoch. */
  abstract now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
