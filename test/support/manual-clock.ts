import type { Clock } from '@stockmesh/config';

/** A clock that only moves when a test moves it: expiry and leases are tested without sleeping. */
export class ManualClock implements Clock {
  constructor(private time: number = Date.now()) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
