import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { RegionSigner } from '@stockmesh/http';
import { transferData } from '../transfer-events.js';
import type { ReceiptOutcome, TransferRecord } from '../transfer.repository.js';

/** What the destination's owner said about a transfer, or why it said nothing. */
export type DestinationAnswer =
  | { readonly kind: 'answered'; readonly outcome: ReceiptOutcome }
  /** No usable answer: the transfer is left as it is and asked about again later. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** How long the source waits for the destination's answer. */
const REMOTE_TIMEOUT_MS = 2_000;
const OUTCOMES: readonly string[] = ['received', 'refused', 'cancelled'] satisfies ReceiptOutcome[];

/**
 * Asks the destination's owner to end a transfer it has not received (through its internal API,
 * `POST /internal/v1/transfers/{id}/resolve`): it answers `cancelled` when it never received it
 * (and from then on never will), or the outcome of its receipt. Idempotent: asking again gets
 * the same answer. Never called inside a database transaction. The call goes to the destination's
 * internal listener, signed as coming from this region.
 */
@Injectable()
export class TransferDestinationClient {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signer: RegionSigner,
  ) {}

  async resolve(transfer: TransferRecord): Promise<DestinationAnswer> {
    const destination = this.config.cluster.regions.find((r) => r.id === transfer.toRegion);
    if (!destination) return { kind: 'unavailable', reason: `region ${transfer.toRegion} is not in the cluster` };
    let response: Response;
    let body: unknown;
    try {
      const url = new URL(`/internal/v1/transfers/${encodeURIComponent(transfer.id)}/resolve`, destination.internal.url);
      const json = JSON.stringify(transferData(transfer));
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.signer.headersFor(destination.id, 'POST', url, json) },
        body: json,
        signal: AbortSignal.timeout(REMOTE_TIMEOUT_MS),
      });
      body = await response.json().catch(() => ({}));
    } catch (error) {
      return { kind: 'unavailable', reason: `region ${destination.id} did not answer: ${(error as Error).message}` };
    }
    const { outcome, code } = (body ?? {}) as { outcome?: unknown; code?: unknown };
    if (response.ok && typeof outcome === 'string' && OUTCOMES.includes(outcome)) {
      return { kind: 'answered', outcome: outcome as ReceiptOutcome };
    }
    return { kind: 'unavailable', reason: `region ${destination.id} answered ${response.status} ${typeof code === 'string' ? code : ''}` };
  }
}
