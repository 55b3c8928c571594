import { storefrontAvailable, type StockLevel } from '../stock-level.js';

/** What a row's crossing of its low-stock threshold announces. */
export type StockAlertKind = 'low' | 'back-in-stock';

/** An owned row as the crossing rule needs it: its quantities, threshold, and announced state. */
export interface LowStockRow extends Pick<StockLevel, 'onHand' | 'reserved' | 'safetyStock'> {
  /** 0: no alerts. */
  readonly lowStockThreshold: number;
  /** Whether the row was last announced low (stored on the row: `stock.low_stock`). */
  readonly lowStock: boolean;
}

/** Whether the row is low: it has a threshold and what storefronts see available is below it. */
export function isLow(row: Omit<LowStockRow, 'lowStock'>): boolean {
  return row.lowStockThreshold > 0 && storefrontAvailable(row) < row.lowStockThreshold;
}

/**
 * The crossing rule, for a row right after a change: compares whether it is low now with whether
 * it was last announced low, and says what to announce and what to store. Announcing against the
 * stored state rather than the row before the change is what makes an alert come once per
 * crossing whatever the change: one write, a batch, many holds in one transaction, or a change of
 * the threshold itself (a threshold raised above what is available announces `low` once). Turning
 * the alerts off (threshold 0) ends a low state without an event: nothing came back in stock.
 */
export function lowStockTransition(row: LowStockRow): { readonly lowStock: boolean; readonly alert?: StockAlertKind } {
  const low = isLow(row);
  if (low === row.lowStock) return { lowStock: low };
  if (low) return { lowStock: true, alert: 'low' };
  return row.lowStockThreshold === 0 ? { lowStock: false } : { lowStock: false, alert: 'back-in-stock' };
}
