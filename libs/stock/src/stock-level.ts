import { MAX_QUANTITY } from '@stockmesh/contracts';
import { StockErrorCode, StockException } from './stock.exception.js';

/** The quantities of one (warehouse, sku) row. `version` 0 means the row did not exist. */
export interface StockLevel {
  readonly onHand: number;
  readonly reserved: number;
  /**
   * Units that storefront holds leave untouched (only a reservation allowed to, see
   * `holdableUnits`, takes them). A setting, not units set aside: it may exceed what is on hand.
   */
  readonly safetyStock: number;
  /**
   * Units promised out of the row's incoming receipts (backorders: held, or committed and not
   * filled yet), not on hand. At most what the receipts still expect; not part of `reserved`.
   */
  readonly backordered: number;
  readonly version: number;
}

/** A change the owner applies to a row. */
export type StockChange =
  /**
   * A count: on-hand becomes exactly `onHand`, the safety stock `safetyStock`, the low-stock
   * threshold `lowStockThreshold` (0: no alerts); an absent one stays as it is.
   */
  | { readonly kind: 'set'; readonly onHand?: number; readonly safetyStock?: number; readonly lowStockThreshold?: number }
  /** A relative change (received, damaged, ...). */
  | { readonly kind: 'adjustment'; readonly delta: number };

export interface AppliedChange {
  readonly next: StockLevel;
  /** How much on-hand moved; for a count, the difference to the previous count. */
  readonly delta: number;
}

/**
 * What a storefront sees available: on-hand less the reserved units and the safety stock, never
 * below 0 (a safety stock above what is left just shows nothing available).
 */
export function storefrontAvailable(level: Pick<StockLevel, 'onHand' | 'reserved' | 'safetyStock'>): number {
  return Math.max(0, level.onHand - level.reserved - level.safetyStock);
}

/**
 * How many units a hold may take from the row: what a storefront sees available, or, for a
 * reservation allowed into the safety stock, everything not reserved.
 */
export function holdableUnits(level: Pick<StockLevel, 'onHand' | 'reserved' | 'safetyStock'>, mayUseSafetyStock: boolean): number {
  return mayUseSafetyStock ? Math.max(0, level.onHand - level.reserved) : storefrontAvailable(level);
}

/**
 * The ledger reason of a count: `cycle-count`; without an on-hand figure, `safety-stock` when it
 * sets the safety stock, else `low-stock-threshold` (it sets nothing but the threshold).
 */
export function countReason(count: { readonly onHand?: number; readonly safetyStock?: number }): string {
  if (count.onHand !== undefined) return 'cycle-count';
  return count.safetyStock === undefined ? 'low-stock-threshold' : 'safety-stock';
}

/** The low-stock threshold of an owned row after a change: a count may set it, nothing else changes it. */
export function lowStockThresholdAfter(current: number, change: StockChange): number {
  return change.kind === 'set' ? (change.lowStockThreshold ?? current) : current;
}

/**
 * Applies a change to a row, or throws when the result would break an invariant:
 * `0 <= reserved <= onHand <= MAX_QUANTITY`. Every accepted change bumps the version by one.
 * The safety stock is not an invariant of the row: a count may set it above on-hand, and
 * on-hand may drop below it (then nothing shows available to storefronts).
 * Pure: the caller holds the row lock, so no other change can slip in between read and write.
 */
export function applyChange(current: StockLevel, change: StockChange): AppliedChange {
  const onHand = change.kind === 'set' ? (change.onHand ?? current.onHand) : current.onHand + change.delta;
  const safetyStock = change.kind === 'set' ? (change.safetyStock ?? current.safetyStock) : current.safetyStock;
  const delta = onHand - current.onHand;
  const quantities = {
    onHand: current.onHand,
    reserved: current.reserved,
    safetyStock: current.safetyStock,
    available: storefrontAvailable(current),
  };
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
  return {
    next: { onHand, reserved: current.reserved, safetyStock, backordered: current.backordered, version: current.version + 1 },
    delta,
  };
}
