import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type RegionConfig } from '@stockmesh/config';
import { problemBody, RegionSigner, type CallerIdentity } from '@stockmesh/http';
import type { BatchStockRow } from './batch-stock.request.dto.js';
import type { BatchRowResultView, BatchStockResultView } from './batch-stock.views.js';

/**
 * How long a forwarded group of rows may take at its owner: a group of up to 1,000 rows takes
 * longer than one write, so at least this, or `STOCKMESH_FORWARD_TIMEOUT_MS` when longer.
 */
export const BATCH_FORWARD_MIN_TIMEOUT_MS = 30_000;

/** Who a forwarded group is for, as the forwarding region knows it. */
export interface ForwardContext {
  readonly requestId: string;
  readonly idempotencyKey?: string;
  readonly caller?: CallerIdentity;
}

/** The owner's results for a forwarded group (indices within the group), or one problem for all of its rows. */
export type ForwardOutcome =
  | { readonly kind: 'answered'; readonly results: readonly BatchRowResultView[] }
  | { readonly kind: 'failed'; readonly problem: Record<string, unknown> };

/**
 * Sends the rows of one owner, as one batch, to the owner's internal listener: signed as coming
 * from this region, marked as forwarded (the owner never forwards them again; a row it does not
 * own gets 421 there), with the client's identity and the request's Idempotency-Key, from which
 * the owner derives the same row keys as this region would (they do not depend on positions).
 */
@Injectable()
export class BatchForwarder {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signer: RegionSigner,
  ) {}

  async forward(owner: RegionConfig, rows: readonly BatchStockRow[], context: ForwardContext): Promise<ForwardOutcome> {
    const url = new URL('/v1/stock/batch', owner.internal.url);
    const body = JSON.stringify({ rows });
    const unavailable = (why: string): ForwardOutcome => ({
      kind: 'failed',
      problem: problemBody('region-unavailable', `region ${owner.id} ${why}; retry the rows with the same keys`, { region: owner.id }),
    });
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          ...this.signer.headersFor(owner.id, 'POST', url, body, { ...context, forwarded: true }),
        },
        body,
        signal: AbortSignal.timeout(Math.max(this.config.http.forwardTimeoutMs, BATCH_FORWARD_MIN_TIMEOUT_MS)),
      });
      text = await response.text();
    } catch (error) {
      return unavailable(`did not answer: ${(error as Error).message}`);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      return unavailable(`answered ${response.status} without JSON`);
    }
    if (response.status === 200 || response.status === 207) {
      const results = (answer as Partial<BatchStockResultView>).results;
      if (!Array.isArray(results) || results.length !== rows.length) return unavailable('answered with a malformed batch result');
      return { kind: 'answered', results };
    }
    const problem = answer as Record<string, unknown>;
    // The owner did not take this region's signature: a fault of the cluster, not of the client.
    if (problem.code === 'region-unauthenticated') return unavailable("refused this region's signature");
    return { kind: 'failed', problem };
  }
}
