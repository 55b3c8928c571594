import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
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
    const target = this.config.cluster.regions.find((r) => r.id === region);
    if (!target) return { kind: 'unavailable', reason: `region ${region} is not in the cluster` };
    try {
      const url = new URL(path, target.internal.url);
      const json = JSON.stringify(body);
      const response = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json', ...this.signer.headersFor(region, method, url, json) },
        body: json,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { kind: 'answered', status: response.status, body: await response.json().catch(() => ({})) };
    } catch (error) {
      return { kind: 'unavailable', reason: `region ${region} did not answer: ${(error as Error).message}` };
    }
  }
}
