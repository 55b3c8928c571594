import { MAX_QUANTITY } from '@stockmesh/contracts';
import { holdableUnits, type StockLevel } from '../stock-level.js';
import type { StockKey } from '../stock.repository.js';

/** One hold of a batch, as far as the decision needs it. */
export interface BatchedHold extends StockKey {
  readonly quantity: number;
  /** The hold may take the row's safety stock (its reservation's key has `stock:reserve-safety`). */
  readonly mayUseSafetyStock?: boolean;
  /** What on hand does not cover may be promised out of the row's incoming receipts (a backorder). */
  readonly allowBackorder?: boolean;
}

/** A row as a hold decision needs it: its quantities, and the units its open receipts still expect. */
export interface HoldLevel extends StockLevel {
  readonly expected: number;
}

/**
 * What a hold may take from a row: on hand (holdableUnits), and, for a backorder, what the row's
 * receipts expect beyond what is promised already. Never below 0.
 */
export function holdLimits(
  row: HoldLevel,
  hold: Pick<BatchedHold, 'mayUseSafetyStock' | 'allowBackorder'>,
): { readonly onHand: number; readonly incoming: number } {
  return {
    onHand: holdableUnits(row, hold.mayUseSafetyStock === true),
    // Never past MAX_QUANTITY promised on one row (what an event can say), however much is expected.
    incoming: hold.allowBackorder === true ? Math.max(0, Math.min(row.expected, MAX_QUANTITY) - row.backordered) : 0,
  };
}

/** What became of one hold of a batch; `after` is its row right after it, as if placed alone. */
export type HoldDecision =
  /** Granted: `backordered` of its units are promised out of incoming stock (0 unless it allowed that). */
  | { readonly granted: true; readonly after: HoldLevel; readonly backordered: number }
  /**
   * Refused: `available` is what the row had left for this hold when its turn came (by its own
   * limit: with or without the safety stock; 0 for a row that does not exist).
   */
  | { readonly granted: false; readonly available: number };

/** `warehouse` and `sku` as one map key (a NUL cannot occur in either). */
export const rowKey = (key: StockKey): string => `${key.warehouseId}\u0000${key.sku}`;

/**
 * Decides a batch of holds in arrival order, exactly as if each had run alone one after the
 * other: a hold is granted when its row has that many units available after the holds granted
 * before it (first fit: a refused hold takes nothing, so a smaller one after it may still fit),
 * and each granted hold raises the row's version by one. Each hold is held to its own limit
 * (`holdableUnits`): an ordinary hold leaves the safety stock untouched, one allowed into it
 * may take every unreserved unit; the two kinds may share a batch and a row. A hold that allows a
 * backorder takes what is on hand first, and the rest out of what the row's receipts still expect
 * and nobody was promised (`holdLimits`), or is refused whole. Pure: `rows` (the rows as locked, by
 * `rowKey`) is not changed. Returns one decision per hold, in order, and each row's level after
 * the whole batch (only rows that changed).
 */
export function decideHolds(
  rows: ReadonlyMap<string, HoldLevel>,
  holds: readonly BatchedHold[],
): { readonly decisions: HoldDecision[]; readonly finalRows: Map<string, HoldLevel> } {
  const current = new Map<string, HoldLevel>();
  const decisions = holds.map((hold): HoldDecision => {
    const key = rowKey(hold);
    const row = current.get(key) ?? rows.get(key);
    if (row === undefined) return { granted: false, available: 0 };
    const limits = holdLimits(row, hold);
    if (hold.quantity > limits.onHand + limits.incoming) return { granted: false, available: limits.onHand + limits.incoming };
    const fromHand = Math.min(hold.quantity, limits.onHand);
    const backordered = hold.quantity - fromHand;
    const after = { ...row, reserved: row.reserved + fromHand, backordered: row.backordered + backordered, version: row.version + 1 };
    current.set(key, after);
    return { granted: true, after, backordered };
  });
  return { decisions, finalRows: current };
}

/**
 * The lane of a stock row among `lanes`: FNV-1a of warehouse and SKU. Independent of the shard
 * hash (murmur2 of the SKU), so the rows of one database spread over all its lanes.
 */
export function laneOf(key: StockKey, lanes: number): number {
  let hash = 0x811c9dc5;
  for (const char of `${key.warehouseId}/${key.sku}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  return (hash >>> 0) % lanes;
}
