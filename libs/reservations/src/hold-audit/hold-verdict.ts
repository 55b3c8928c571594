import type { AllocationState, ReservationStatus } from '../reservation.repository.js';

/**
 * What a coordinator says of a hold an owner still holds:
 * - `live`: its reservation still wants it (a saga is placing holds, the reservation is held, or
 *   a decided commit will commit it); the owner keeps it.
 * - `ended`: the reservation is done with it (released, expired, failed, or this allocation was
 *   refused, compensated or released); the owner may release it now.
 * - `unknown`: the coordinator has no such reservation or allocation (its database was restored,
 *   or the finished reservation was pruned); nobody will ever finish the hold, so the owner releases it.
 * - `anomaly`: the coordinator counts the hold as committed or lost while the owner still holds
 *   it (e.g. the owner's database was restored); the owner leaves it and reports it.
 * - `not-mine`: the hold's reservation is not this region's to judge.
 */
export type HoldVerdict = 'live' | 'ended' | 'unknown' | 'anomaly' | 'not-mine';

export const HOLD_VERDICTS: readonly HoldVerdict[] = ['live', 'ended', 'unknown', 'anomaly', 'not-mine'];

/** The verdicts on which the owner releases the hold. */
export function ownerReleases(verdict: HoldVerdict): boolean {
  return verdict === 'ended' || verdict === 'unknown';
}

/**
 * The verdict on one hold from its reservation's status and its allocation's state at the
 * coordinator (either may be missing). An allocation is placed (`intent`) before its hold is, so
 * a hold whose allocation is missing was never wanted by this coordinator's current state.
 */
export function holdVerdict(status: ReservationStatus | undefined, state: AllocationState | undefined): HoldVerdict {
  if (status === undefined || state === undefined) return 'unknown';
  if (state === 'committed' || state === 'lost') return 'anomaly';
  // A running saga may still settle any of its allocations; recovery releases what it leaves.
  if (status === 'pending') return 'live';
  // Held: its held allocations are wanted; an `intent` left by an unanswered place is being released.
  if (status === 'held') return state === 'held' ? 'live' : 'ended';
  // Committing: held allocations are being committed; everything else was targeted for release.
  if (status === 'committing') return state === 'held' ? 'live' : 'ended';
  return 'ended';
}
