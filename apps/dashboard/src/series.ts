// What the dashboard keeps between polls, without the DOM (so a unit spec can check it under Node).

/** How far back the charts go. */
export const WINDOW_MS = 5 * 60_000;

/** One reading of several named figures at one time. */
export interface Point {
  /** Milliseconds since the epoch. */
  readonly t: number;
  readonly values: Readonly<Record<string, number>>;
}

/** The last `windowMs` of readings, oldest first; older ones are dropped as new ones come. */
export class Ring {
  private readonly points: Point[] = [];

  constructor(private readonly windowMs: number = WINDOW_MS) {}

  push(point: Point): void {
    // A clock that went back (or a restarted server's readings) must not leave a line drawn backwards.
    while (this.points.length > 0 && this.points[this.points.length - 1].t >= point.t) this.points.pop();
    this.points.push(point);
    while (this.points.length > 0 && this.points[0].t < point.t - this.windowMs) this.points.shift();
  }

  all(): readonly Point[] {
    return this.points;
  }

  /** Every name any point has, sorted: one line each. */
  names(): string[] {
    return [...new Set(this.points.flatMap((p) => Object.keys(p.values)))].sort();
  }

  /** The largest value of any line, for the chart's scale. */
  max(): number {
    return this.points.reduce((m, p) => Math.max(m, ...Object.values(p.values)), 0);
  }
}

/** Counters read at one time (`GET /v1/cluster/activity`). */
export interface CounterReading {
  readonly at: number;
  /** When the process started counting: a different value means it restarted and its counters began again. */
  readonly since: string;
  readonly totals: Readonly<Record<string, number>>;
}

/**
 * Per-second rates between two readings of the same process: the difference of each counter
 * over the time between them. None across a restart (counters went back to 0) or without time
 * between them.
 */
export function ratesBetween(before: CounterReading | undefined, after: CounterReading): Record<string, number> | undefined {
  if (!before || before.since !== after.since) return undefined;
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return undefined;
  const rates: Record<string, number> = {};
  for (const [name, value] of Object.entries(after.totals)) rates[name] = Math.max(0, value - (before.totals[name] ?? 0)) / seconds;
  return rates;
}

/** An age in words a person reads at a glance: `0.4 s`, `12 s`, `3 min`, `2 h`, `4 d`. */
export function ageOf(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const abs = Math.max(0, ms);
  if (abs < 10_000) return `${(abs / 1000).toFixed(1)} s`;
  if (abs < 120_000) return `${Math.round(abs / 1000)} s`;
  if (abs < 2 * 3_600_000) return `${Math.round(abs / 60_000)} min`;
  if (abs < 2 * 86_400_000) return `${Math.round(abs / 3_600_000)} h`;
  return `${Math.round(abs / 86_400_000)} d`;
}
