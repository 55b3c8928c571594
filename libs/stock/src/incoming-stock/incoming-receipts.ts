import { MAX_INCOMING_RECEIPTS, MAX_QUANTITY } from '@stockmesh/contracts';
import { storefrontAvailable, type AppliedChange, type StockLevel } from '../stock-level.js';
import { StockErrorCode, StockException } from '../stock.exception.js';

/**
 * One open incoming receipt of a row: units a purchase order or an advance shipping notice
 * (`receiptId`) announced, not received yet, expected on a day (`YYYY-MM-DD`).
 */
export interface IncomingReceipt {
  readonly receiptId: string;
  readonly quantity: number;
  readonly expectedAt: string;
}

/** A row's quantities with its open receipts. */
export interface LevelWithIncoming extends StockLevel {
  readonly incoming: readonly IncomingReceipt[];
}

/** A change of a row's receipts: the row after it, how much on-hand moved, and its receipts after it. */
export interface IncomingChange extends AppliedChange {
  readonly incoming: readonly IncomingReceipt[];
}

/** The units a row's open receipts still expect, in all. */
export function expectedUnits(receipts: readonly IncomingReceipt[]): number {
  return receipts.reduce((sum, r) => sum + r.quantity, 0);
}

/** The order receipts are kept, shown and replicated in: by expected day, then by id. */
export function byExpectedDay(a: IncomingReceipt, b: IncomingReceipt): number {
  return a.expectedAt.localeCompare(b.expectedAt) || (a.receiptId < b.receiptId ? -1 : a.receiptId > b.receiptId ? 1 : 0);
}

/** The receipts as stored: only these three fields, in their order (what an event carries). */
export function normalizeReceipts(receipts: readonly IncomingReceipt[]): IncomingReceipt[] {
  return receipts.map(({ receiptId, quantity, expectedAt }) => ({ receiptId, quantity, expectedAt })).sort(byExpectedDay);
}

/** Facts about a row a refusal carries. */
const factsOf = (current: LevelWithIncoming): Record<string, unknown> => ({
  onHand: current.onHand,
  reserved: current.reserved,
  safetyStock: current.safetyStock,
  available: storefrontAvailable(current),
  openReceipts: current.incoming.length,
});

/**
 * Announces a receipt, or changes one announced already: `quantity` units still expected on
 * `expectedAt`. On-hand does not move. 422 incoming-limit-exceeded for a new receipt of a row that
 * has MAX_INCOMING_RECEIPTS open already; 409 incoming-promised for a cut below what backorders
 * were promised (as a cancel, or a receipt closed short).
 */
export function expectIncoming(current: LevelWithIncoming, receipt: IncomingReceipt): IncomingChange {
  const others = current.incoming.filter((r) => r.receiptId !== receipt.receiptId);
  if (others.length >= MAX_INCOMING_RECEIPTS) {
    throw new StockException(
      StockErrorCode.IncomingLimit,
      `the row has ${others.length} open incoming receipts, the most it may have; receive or cancel one first`,
      { ...factsOf(current), maxReceipts: MAX_INCOMING_RECEIPTS },
    );
  }
  const incoming = normalizeReceipts([...others, receipt]);
  keepPromises(current, incoming, 0);
  return { next: { ...levelOf(current), version: current.version + 1 }, delta: 0, incoming };
}

/**
 * Units promised to backorders beyond what the receipts expect (0 when the receipts cover every
 * promise). A row gets there only when a receipt was received while a backorder it would have
 * filled was being changed (see StockService.receiveIncoming), or was so before a change.
 */
export function unbackedPromises(backordered: number, incoming: readonly IncomingReceipt[]): number {
  return Math.max(0, backordered - expectedUnits(incoming));
}

/**
 * Refuses (409 incoming-promised) a change that would leave more backordered units without
 * incoming units behind them than before, `filled` of them being filled by units received in the
 * same change. A row over-promised already is never refused for that alone: only what makes it
 * worse (a cancel, a smaller receipt, a receipt closed short while its units are needed).
 */
function keepPromises(current: LevelWithIncoming, incoming: readonly IncomingReceipt[], filled: number): void {
  const backorderedAfter = current.backordered - Math.min(filled, current.backordered);
  const before = unbackedPromises(current.backordered, current.incoming);
  const after = unbackedPromises(backorderedAfter, incoming);
  if (after > before) {
    throw new StockException(
      StockErrorCode.IncomingPromised,
      `${backorderedAfter} units of the row's incoming stock are promised to backorders; the receipts would then expect only ${expectedUnits(incoming)}`,
      {
        ...factsOf(current),
        backordered: current.backordered,
        expected: expectedUnits(current.incoming),
        expectedAfter: expectedUnits(incoming),
      },
    );
  }
}

/** Cancels an open receipt (its units will not come). 404 incoming-not-found if it is not open. */
export function cancelIncoming(current: LevelWithIncoming, receiptId: string): IncomingChange {
  openReceipt(current, receiptId);
  const incoming = current.incoming.filter((r) => r.receiptId !== receiptId);
  keepPromises(current, incoming, 0);
  return { next: { ...levelOf(current), version: current.version + 1 }, delta: 0, incoming };
}

/**
 * Receives `quantity` units of an open receipt: they go on hand, and the receipt expects that
 * many fewer. It closes when nothing more is expected, or when `close` says the rest will not come;
 * units beyond what it expected (an over-delivery) are received all the same, and close it.
 * 404 incoming-not-found if it is not open; 409 quantity-limit-exceeded past MAX_QUANTITY on hand.
 */
export function receiveIncoming(current: LevelWithIncoming, receiptId: string, quantity: number, close: boolean): IncomingChange {
  const receipt = openReceipt(current, receiptId);
  const onHand = current.onHand + quantity;
  if (onHand > MAX_QUANTITY) {
    throw new StockException(
      StockErrorCode.QuantityLimit,
      `receiving ${quantity} would bring on-hand to ${onHand}, above ${MAX_QUANTITY}`,
      {
        ...factsOf(current),
        maxQuantity: MAX_QUANTITY,
      },
    );
  }
  const remaining = receipt.quantity - quantity;
  const incoming =
    remaining > 0 && !close
      ? current.incoming.map((r) => (r.receiptId === receiptId ? { ...r, quantity: remaining } : r))
      : current.incoming.filter((r) => r.receiptId !== receiptId);
  // The units received fill backorders first (planBackorderFill): refused here only if even filling
  // as many as were received would leave promises without units (a receipt closed short); the
  // caller checks again against what the fill really did.
  keepPromises(current, incoming, quantity);
  return { next: { ...levelOf(current), onHand, version: current.version + 1 }, delta: quantity, incoming };
}

function openReceipt(current: LevelWithIncoming, receiptId: string): IncomingReceipt {
  const receipt = current.incoming.find((r) => r.receiptId === receiptId);
  if (!receipt) {
    throw new StockException(StockErrorCode.IncomingNotFound, `no open incoming receipt ${receiptId} for this row`, {
      receiptId,
      openReceipts: current.incoming.map((r) => r.receiptId),
    });
  }
  return receipt;
}

const levelOf = ({ onHand, reserved, safetyStock, backordered, version }: StockLevel): StockLevel => ({
  onHand,
  reserved,
  safetyStock,
  backordered,
  version,
});

/** A hold with backordered units, as a receipt fills them. */
export interface BackorderedHold {
  readonly id: string;
  readonly status: 'held' | 'committed' | 'released';
  readonly backordered: number;
}

/** What units just received do for the row's backorders (see planBackorderFill). */
export interface BackorderFill {
  /** The row after: a held backorder's filled units are reserved, a committed one's left on-hand. */
  readonly next: StockLevel;
  /** Each hold filled (in part or whole), with what it still has backordered. */
  readonly holds: readonly { readonly id: string; readonly backordered: number }[];
  /** Units that left on-hand for committed backorders (sold before they arrived). */
  readonly shipped: number;
  /** Units that became reserved for held backorders. */
  readonly reserved: number;
}

/**
 * Fills backorders with `received` units that have just gone on hand, oldest hold first (the
 * order of `holds`): a held hold's filled units become reserved like any held unit, a committed
 * hold's leave on-hand (its order ships). Never fills more than was received, nor more than a hold
 * has backordered; the row's backordered units go down by what is filled. Undefined when nothing
 * is filled. Pure.
 */
export function planBackorderFill(level: StockLevel, holds: readonly BackorderedHold[], received: number): BackorderFill | undefined {
  let left = received;
  let shipped = 0;
  let reserved = 0;
  const filled: { id: string; backordered: number }[] = [];
  for (const hold of holds) {
    if (left === 0) break;
    if (hold.status === 'released' || hold.backordered === 0) continue;
    const units = Math.min(left, hold.backordered);
    left -= units;
    if (hold.status === 'committed') shipped += units;
    else reserved += units;
    filled.push({ id: hold.id, backordered: hold.backordered - units });
  }
  if (filled.length === 0) return undefined;
  return {
    next: {
      ...levelOf(level),
      onHand: level.onHand - shipped,
      reserved: level.reserved + reserved,
      backordered: Math.max(0, level.backordered - shipped - reserved),
      version: level.version + 1,
    },
    holds: filled,
    shipped,
    reserved,
  };
}
