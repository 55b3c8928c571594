import { Injectable } from '@nestjs/common';
import { RegionCaller } from '@stockmesh/http';
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
  constructor(private readonly regions: RegionCaller) {}

  async resolve(transfer: TransferRecord): Promise<DestinationAnswer> {
    const path = `/internal/v1/transfers/${encodeURIComponent(transfer.id)}/resolve`;
    const answer = await this.regions.call(transfer.toRegion, 'POST', path, transferData(transfer), REMOTE_TIMEOUT_MS);
    if (answer.kind === 'unavailable') return answer;
    const { outcome, code } = (answer.body ?? {}) as { outcome?: unknown; code?: unknown };
    if (answer.status >= 200 && answer.status < 300 && typeof outcome === 'string' && OUTCOMES.includes(outcome)) {
      return { kind: 'answered', outcome: outcome as ReceiptOutcome };
    }
    return { kind: 'unavailable', reason: `region ${transfer.toRegion} answered ${answer.status} ${typeof code === 'string' ? code : ''}` };
  }
}
