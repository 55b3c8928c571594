import { CodedException } from '@stockmesh/contracts';

export enum ReservationErrorCode {
  NotFound = 'reservation-not-found',
  Conflict = 'reservation-conflict',
  InProgress = 'reservation-in-progress',
  KeyRequired = 'idempotency-key-required',
  /** An owner no longer had a hold when the reservation was committed: the commit is not whole. */
  HoldLost = 'reservation-hold-lost',
  /** A partial commit names lines or units the reservation does not hold, or commits nothing. */
  CommitInvalid = 'reservation-commit-invalid',
  /** An owner did not answer in time; nothing the client asked for is decided yet. */
  RegionUnavailable = 'region-unavailable',
}

export class ReservationException extends CodedException<`${ReservationErrorCode}`> {
  constructor(code: ReservationErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
