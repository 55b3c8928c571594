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
  /** The key already has as many open reservations as STOCKMESH_QUOTA_OPEN_RESERVATIONS allows here. */
  OpenReservationsQuota = 'open-reservations-quota-exceeded',
  /** The reservation would take the key's open units past STOCKMESH_QUOTA_UNITS_HELD here. */
  HeldUnitsQuota = 'held-units-quota-exceeded',
  /** A reservation for a sales channel names a warehouse the channel does not sell from. */
  WarehouseOutsideChannel = 'warehouse-outside-channel',
  /** With its kits expanded into their components, the reservation is past the bounds of a request. */
  TooLarge = 'reservation-too-large',
}

export class ReservationException extends CodedException<`${ReservationErrorCode}`> {
  constructor(code: ReservationErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
