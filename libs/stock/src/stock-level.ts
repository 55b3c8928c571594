import { MAX_QUANTITY } from '@stockmesh/contracts';
import { StockErrorCode, StockException } from './stock.exception.js';

/** The quantities of one (warehouse, sku) row. `version` 0 means the row did not exist. */
export interface StockLevel {
  readonly onHand: number;
  readonly reserved: number;
  readonly version: number;
}

/** A change the owner applies to a row. */
export type StockChange =
  /** A count: on-hand becomes exactly this. */
  | { readonly kind: 'set'; readonly onHand: number }
  /** A relative change (received, damaged, ...). */
  | { readonly kind: 'adjustment'; readonly delta: number };

export interface AppliedChange {
  readonly next: StockLevel;
  /** How much on-hand moved; for a count, the difference to the previous count. */
  readonly delta: number;
}

/**
 * Applies a change to a row, or throws when the result would break an invariant:
 * `0 <= reserved <= onHand <= MAX_QUANTITY`. Every accepted change bumps the version by one.
 * Pure: the caller holds the row lock, so no other change can slip in between read and write.
 */
export function applyChange(current: StockLevel, change: StockChange): AppliedChange {
  const onHand = change.kind === 'set' ? change.onHand : current.onHand + change.delta;
  const delta = onHand - current.onHand;
  const quantities = { onHand: current.onHand, reserved: current.reserved, available: current.onHand - current.reserved };
  if (onHand < current.reserved) {
    const what = onHand < 0 ? 'below zero' : `below the ${current.reserved} reserved`;
    throw new StockException(StockErrorCode.Insufficient, `the change would bring on-hand to ${onHand}, ${what}`, {
      ...quantities,
      requestedOnHand: onHand,
    });
  }
  if (onHand > MAX_QUANTITY) {
    throw new StockException(StockErrorCode.QuantityLimit, `the change would bring on-hand to ${onHand}, above ${MAX_QUANTITY}`, {
      ...quantities,
      maxQuantity: MAX_QUANTITY,
    });
  }
  return { next: { onHand, reserved: current.reserved, version: current.version + 1 }, delta };
}
