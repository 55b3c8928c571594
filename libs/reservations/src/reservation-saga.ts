import type { ChannelSelection } from '@stockmesh/stock';
import {
  SAGA_LEASE_SECONDS,
  type AllocationRecord,
  type AllocationState,
  type NewAllocation,
  type ReservationLine,
  type ReservationRecord,
} from './reservation.repository.js';

/** A reservation as its saga plans it, before (and while) the database has it. */
export interface PlannedReservation {
  readonly id: string;
  /** The Idempotency-Key with its scope (`scopedKey`). */
  readonly idempotencyKey: string;
  readonly fingerprint: string;
  readonly createdBy: string;
  readonly lines: readonly ReservationLine[];
  readonly ttlSeconds: number;
  readonly reference: string | null;
  readonly allowSplit: boolean;
  /** Units short on hand may be held out of incoming stock (backorders). */
  readonly allowBackorder: boolean;
  /** The sales channel it is made for: only its warehouses, in its order. */
  readonly channel: ChannelSelection | null;
}

/** A running saga renews its lease this often, so a slow step never makes it look dead. */
const LEASE_RENEW_MS = (SAGA_LEASE_SECONDS * 1000) / 5;

/**
 * What one reservation's saga knows as it runs, in memory: the reservation once stored, the
 * allocations it placed and the owners' answers it has not written yet. The answers are written
 * with the decision, in its transaction (ReservationRepository.decide): until then an allocation
 * stays an `intent` in the database, which recovery treats as possibly held, so keeping them here
 * costs no safety and saves a transaction per hold. The saga is the only writer of its
 * allocations while the reservation is pending, so this list is what the database will hold.
 */
export class Saga {
  /** The stored reservation, once `begin` has inserted it. */
  record?: ReservationRecord;
  private readonly placed: NewAllocation[] = [];
  private readonly answers = new Map<number, AllocationState>();
  private readonly backorders = new Map<number, number>();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    readonly planned: PlannedReservation,
    /** The key as the client sent it, for errors. */
    readonly clientKey: string,
    /** Whether the creator's quotas apply. */
    readonly limited: boolean,
  ) {}

  /** The reservation is stored: renew its lease with `renew` until `stop`. */
  started(record: ReservationRecord, renew: () => Promise<void>): void {
    this.record = record;
    this.heartbeat = setInterval(() => void renew(), LEASE_RENEW_MS);
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** An allocation whose intent is recorded, about to be asked of its owner. */
  placing(allocation: NewAllocation): void {
    this.placed.push(allocation);
  }

  /** The owner's answer for an allocation (`released`: already written, see ReservationsService.run). */
  settle(allocationNo: number, state: 'held' | 'refused' | 'released', backordered = 0): void {
    this.answers.set(allocationNo, state);
    if (backordered > 0) this.backorders.set(allocationNo, backordered);
  }

  /** Of the held allocations, the units their owners promised out of incoming stock (when any). */
  backordered(): Map<number, number> {
    return new Map(this.backorders);
  }

  /** The answers the decision writes. */
  settled(): Map<number, 'held' | 'refused'> {
    const written = new Map<number, 'held' | 'refused'>();
    for (const [no, state] of this.answers) if (state === 'held' || state === 'refused') written.set(no, state);
    return written;
  }

  /** The allocations as they stand once the decision is written. */
  allocations(): AllocationRecord[] {
    return this.placed.map((a) => ({
      ...a,
      state: this.answers.get(a.allocationNo) ?? 'intent',
      commitQuantity: null,
      backordered: this.backorders.get(a.allocationNo) ?? 0,
    }));
  }
}
