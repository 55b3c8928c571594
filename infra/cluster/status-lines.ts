// `npm start`'s periodic one-line summary per region, read from each region's API as an operator
// would (`stockmesh status` asks the same endpoints): so a terminal shows the cluster's state
// between log lines without a dashboard.

/** What one summary line of a region says; `error` when the region did not answer. */
export interface RegionStatus {
  readonly id: string;
  readonly ready?: boolean;
  /** The other regions' replication lag as this region sees it. */
  readonly lag?: readonly { readonly region: string; readonly lagMs: number; readonly stale: boolean }[];
  readonly outboxPending?: number | null;
  /** Records its consumers dead-lettered since its process started. */
  readonly deadLetters?: number;
  readonly error?: string;
}

/** Seconds between summaries: the smallest and largest STOCKMESH_STATUS_SECONDS takes. */
const MIN_SECONDS = 5;
const MAX_SECONDS = 3_600;
const DEFAULT_SECONDS = 30;
/** How long a summary waits for a region's answers. */
const ANSWER_TIMEOUT_MS = 5_000;

/**
 * How often to print the summaries, in seconds, or 0 for never: STOCKMESH_STATUS_SECONDS
 * (`0` or `off` turns them off), else every 30 s on a terminal and never when the output is piped
 * or redirected (a log file wants the regions' lines only). Throws, naming the variable, on a bad value.
 */
export function statusSeconds(env: NodeJS.ProcessEnv, onTerminal: boolean): number {
  const asked = env.STOCKMESH_STATUS_SECONDS;
  if (asked === undefined || asked === '') return onTerminal ? DEFAULT_SECONDS : 0;
  if (asked === '0' || asked === 'off') return 0;
  const seconds = /^\d{1,4}$/.test(asked) ? Number(asked) : NaN;
  if (!(seconds >= MIN_SECONDS && seconds <= MAX_SECONDS)) {
    throw new Error(
      `STOCKMESH_STATUS_SECONDS must be 0 or off, or whole seconds from ${MIN_SECONDS} to ${MAX_SECONDS}, not ${JSON.stringify(asked)}`,
    );
  }
  return seconds;
}

/** e.g. `us-east  ready  lag eu-west 12 ms, ap-south stale  outbox 0  dead letters 0`. */
export function formatStatusLine(status: RegionStatus, width = status.id.length): string {
  const id = status.id.padEnd(width);
  if (status.error !== undefined) return `${id}  not answering (${status.error})`;
  const lag = (status.lag ?? []).map((l) => `${l.region} ${l.stale ? 'stale' : `${l.lagMs} ms`}`).join(', ');
  return [
    id,
    status.ready ? 'ready' : 'not ready',
    `lag ${lag || '-'}`,
    `outbox ${status.outboxPending ?? '?'}`,
    `dead letters ${status.deadLetters ?? '?'}`,
  ].join('  ');
}

async function getJson<T>(url: string, key: string | undefined): Promise<{ status: number; body: T }> {
  const answer = await fetch(url, {
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  });
  return { status: answer.status, body: (await answer.json()) as T };
}

/** A region's summary from `/health/ready`, `GET /v1/cluster` and `GET /v1/cluster/activity`. */
export async function readRegionStatus(region: { readonly id: string; readonly url: string }, key: string): Promise<RegionStatus> {
  const at = (path: string): string => new URL(path, region.url.endsWith('/') ? region.url : `${region.url}/`).href;
  try {
    const [ready, cluster, activity] = await Promise.all([
      getJson<unknown>(at('health/ready'), undefined),
      getJson<{ outboxPending: number | null; regions: { region: string; self: boolean; lagMs: number; stale: boolean }[] }>(
        at('v1/cluster'),
        key,
      ),
      getJson<{ totals: { deadLetters: number } }>(at('v1/cluster/activity'), key),
    ]);
    if (cluster.status !== 200 || activity.status !== 200) return { id: region.id, error: `its API answered ${cluster.status}` };
    return {
      id: region.id,
      ready: ready.status === 200,
      lag: cluster.body.regions.filter((r) => !r.self).map((r) => ({ region: r.region, lagMs: r.lagMs, stale: r.stale })),
      outboxPending: cluster.body.outboxPending,
      deadLetters: activity.body.totals.deadLetters,
    };
  } catch (error) {
    return { id: region.id, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Prints every region's summary every `seconds` until `signal` aborts; the timer never keeps the process alive. */
export function startStatusLines(
  regions: readonly { readonly id: string; readonly url: string }[],
  key: string,
  seconds: number,
  write: (line: string) => void,
  signal: AbortSignal,
): void {
  const width = Math.max(...regions.map((r) => r.id.length));
  let busy = false;
  const timer = setInterval(() => {
    // A summary still waiting for a region that does not answer is not doubled up.
    if (busy) return;
    busy = true;
    void Promise.all(regions.map((r) => readRegionStatus(r, key)))
      .then((statuses) => {
        if (!signal.aborted) for (const s of statuses) write(`stockmesh status: ${formatStatusLine(s, width)}`);
      })
      .finally(() => (busy = false));
  }, seconds * 1_000);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
