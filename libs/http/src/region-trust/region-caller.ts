import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import type { CallerIdentity } from './region-signature.js';
import { RegionSigner } from './region-signer.js';

/** What another region's internal listener said to one call, or why it said nothing. */
export type RegionAnswer =
  | { readonly kind: 'answered'; readonly status: number; readonly body: unknown }
  /** No answer in time (or no such region): the call may or may not have had its effect there. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Calls another region's internal API: JSON in, JSON out, signed as coming from this region, and
 * bounded by a timeout. Never call it inside a database transaction: a region that does not answer
 * would keep the transaction (and its locks and connection) open for the whole wait.
 */
@Injectable()
export class RegionCaller {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signer: RegionSigner,
  ) {}

  async call(region: string, method: 'PUT' | 'POST', path: string, body: object, timeoutMs: number): Promise<RegionAnswer> {
    return this.send(region, method, path, JSON.stringify(body), timeoutMs);
  }

  /**
   * A read of another region's API for a client: the region checks the route's scope against
   * `caller` (the client's identity, never its key), exactly as for a forwarded request.
   */
  async read(region: string, path: string, caller: CallerIdentity, timeoutMs: number): Promise<RegionAnswer> {
    return this.send(region, 'GET', path, undefined, timeoutMs, caller);
  }

  private async send(
    region: string,
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    json: string | undefined,
    timeoutMs: number,
    caller?: CallerIdentity,
  ): Promise<RegionAnswer> {
    const target = this.config.cluster.regions.find((r) => r.id === region);
    if (!target) return { kind: 'unavailable', reason: `region ${region} is not in the cluster` };
    try {
      const url = new URL(path, target.internal.url);
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...this.signer.headersFor(region, method, url, json, { caller }),
      };
      if (json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(url, { method, headers, body: json, signal: AbortSignal.timeout(timeoutMs) });
      return { kind: 'answered', status: response.status, body: await response.json().catch(() => ({})) };
    } catch (error) {
      return { kind: 'unavailable', reason: `region ${region} did not answer: ${(error as Error).message}` };
    }
  }
}
