import type { components } from '../../cli/src/stockmesh-api.generated.js';

// The JSON API of the region that served the page (same origin), with the key the person gave.
// Types come from the OpenAPI document (the CLI's generated client types, checked in CI), so a
// change of the API that the page does not follow fails the build.

export type ClusterView = components['schemas']['ClusterView'];
export type ActivityView = components['schemas']['ActivityView'];
export type AvailabilityByRegionView = components['schemas']['AvailabilityByRegionView'];

/** Why a call gave no figures, said for a person. `keyRefused`: ask for a key again. */
export class ApiRefusal extends Error {
  constructor(
    message: string,
    readonly keyRefused: boolean,
  ) {
    super(message);
  }
}

/** The parts of an RFC 9457 problem the page shows. */
interface Problem {
  readonly detail?: string;
  readonly reason?: string;
  readonly scope?: string;
}

export class Api {
  constructor(private readonly key: string) {}

  cluster(): Promise<ClusterView> {
    return this.get('/v1/cluster');
  }

  activity(): Promise<ActivityView> {
    return this.get('/v1/cluster/activity');
  }

  skuInEveryRegion(sku: string): Promise<AvailabilityByRegionView> {
    return this.get(`/v1/availability/${encodeURIComponent(sku)}/regions`);
  }

  private async get<T>(path: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        headers: { authorization: `Bearer ${this.key}`, accept: 'application/json' },
        cache: 'no-store',
        // Never sent anywhere else, and no cookies: the key is the only credential.
        credentials: 'omit',
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new ApiRefusal(`the region did not answer (${(error as Error).message})`, false);
    }
    if (response.ok) return (await response.json()) as T;
    const problem = (await response.json().catch(() => ({}))) as Problem;
    switch (response.status) {
      case 401:
        throw new ApiRefusal(
          `The key was refused (${problem.reason ?? 'unauthenticated'}): ${problem.detail ?? 'check it and enter it again.'}`,
          true,
        );
      case 403:
        throw new ApiRefusal(`This key may not read the dashboard's figures: it needs the ${problem.scope ?? 'stock:read'} scope.`, true);
      case 429:
        throw new ApiRefusal('Too many requests for this key just now (rate limit); trying again.', false);
      default:
        throw new ApiRefusal(`${path} answered ${response.status}${problem.detail ? `: ${problem.detail}` : ''}`, false);
    }
  }
}
