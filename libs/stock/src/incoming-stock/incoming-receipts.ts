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
 * has MAX_INCOMING_RECEIPTS open already.
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
  return { next: { ...levelOf(current), version: current.version + 1 }, delta: 0, incoming: normalizeReceipts([...others, receipt]) };
}

/** Cancels an open receipt (its units will not come). 404 incoming-not-found if it is not open. */
export function cancelIncoming(current: LevelWithIncoming, receiptId: string): IncomingChange {
  openReceipt(current, receiptId);
  return {
    next: { ...levelOf(current), version: current.version + 1 },
    delta: 0,
    incoming: current.incoming.filter((r) => r.receiptId !== receiptId),
  };
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

const levelOf = ({ onHand, reserved, safetyStock, version }: StockLevel): StockLevel => ({ onHand, reserved, safetyStock, version });
