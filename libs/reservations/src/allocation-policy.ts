import { expectedUnits, withinChannel } from '@stockmesh/stock';

/** What this region believes a warehouse has available for a SKU (its own rows and replicas). */
export interface WarehouseStock {
  readonly warehouseId: string;
  readonly region: string;
  readonly available: number;
}

/**
 * A warehouse of the global view as one reservation may draw on it: what storefronts see
 * available, or, for a reservation allowed into the safety stock (its key has
 * `stock:reserve-safety`), every unreserved unit; for a reservation that allows backorders, also
 * what the warehouse's incoming receipts expect and nobody was promised.
 */
export function reservableStock(
  warehouse: WarehouseStock & {
    readonly onHand: number;
    readonly reserved: number;
    readonly incoming?: readonly { readonly receiptId: string; readonly quantity: number; readonly expectedAt: string }[];
    readonly backordered?: number;
  },
  mayUseSafetyStock: boolean,
  allowBackorder = false,
): WarehouseStock {
  const { warehouseId, region, onHand, reserved, available } = warehouse;
  const onHandUnits = mayUseSafetyStock ? Math.max(0, onHand - reserved) : available;
  // A backorder may also take what the warehouse's receipts expect and nobody was promised.
  const promisable = allowBackorder ? Math.max(0, expectedUnits(warehouse.incoming ?? []) - (warehouse.backordered ?? 0)) : 0;
  return { warehouseId, region, available: onHandUnits + promisable };
}

/** One place to try to hold units of a line, in order. */
export interface Candidate {
  readonly warehouseId: string;
  readonly region: string;
  /** What the global view says is available there; the owner decides for real when holding. */
  readonly available: number;
}

/**
 * The allocation policy, in one place. For a line without a warehouse, the candidates are the
 * warehouses whose stock of the SKU shows units available, ordered by region — the serving
 * region first, then the others in the cluster's allocation order (nearest first) — and within a
 * region by most units available (fewest splits), then by id (a stable order). Regions outside
 * the order are not drawn from. A line with a warehouse has that one candidate, whatever the
 * view says (the owner decides).
 *
 * For a reservation made for a sales channel (`channelOrder`, the channel's warehouses in its
 * order), the candidates are the channel's warehouses showing units available, in the channel's
 * order, whatever their region: the channel says where it sells from. A line with a warehouse
 * still has that one candidate (the caller has checked it is the channel's).
 *
 * Without `allowSplit` a line is held in one warehouse, so only candidates showing the whole
 * quantity are tried; with it, a line takes what each candidate has until it is complete.
 */
export function candidatesFor(
  line: { readonly quantity: number; readonly warehouseId?: string },
  stock: readonly WarehouseStock[],
  regionOrder: readonly string[],
  allowSplit: boolean,
  channelOrder?: readonly string[],
): Candidate[] {
  if (line.warehouseId !== undefined) {
    const known = stock.find((s) => s.warehouseId === line.warehouseId);
    return known ? [{ ...known }] : [];
  }
  const enough = (s: WarehouseStock): boolean => s.available > 0 && (allowSplit || s.available >= line.quantity);
  const candidate = (s: WarehouseStock): Candidate => ({ warehouseId: s.warehouseId, region: s.region, available: s.available });
  if (channelOrder !== undefined) return withinChannel(stock, channelOrder).filter(enough).map(candidate);
  const rank = (region: string): number => regionOrder.indexOf(region);
  return stock
    .filter((s) => rank(s.region) >= 0 && enough(s))
    .sort((a, b) => rank(a.region) - rank(b.region) || b.available - a.available || a.warehouseId.localeCompare(b.warehouseId))
    .map(candidate);
}

/** How many units to ask a candidate for: all that is left, or what it shows when splitting. */
export function quantityToAsk(remaining: number, candidate: Candidate, allowSplit: boolean): number {
  return allowSplit ? Math.min(remaining, Math.max(candidate.available, 0)) : remaining;
}
