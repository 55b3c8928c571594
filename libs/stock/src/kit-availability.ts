/** A kit as availability reads it: what one unit takes of each component. */
export interface KitDefinition {
  readonly sku: string;
  readonly components: readonly { readonly sku: string; readonly quantity: number }[];
}

/** A component row as availability counts it (already limited to a channel, if one is asked for). */
export interface ComponentRow {
  readonly warehouseId: string;
  readonly region: string;
  readonly available: number;
}

export interface KitAvailability {
  /** Kits a reservation may hold, its components drawn from any warehouse (`allowSplit`). */
  readonly available: number;
  /** Per component: its units available and the kits they make. */
  readonly components: { readonly sku: string; readonly quantity: number; readonly available: number; readonly kits: number }[];
  /** Per warehouse stocking every component: the kits it can make alone. */
  readonly warehouses: { readonly warehouseId: string; readonly region: string; readonly available: number }[];
}

/**
 * A kit's availability from its components' rows: a kit is as available as its scarcest
 * component allows. In total, `min over components of floor(units available / units per kit)`:
 * what a reservation may hold when its component lines draw from any warehouse. Per warehouse,
 * the same over that warehouse's rows alone (what a line naming the warehouse may hold); a
 * warehouse missing any component makes no kit and is not listed. Warehouses are listed in the
 * order of the first component's rows (the channel's order, or by id).
 */
export function kitAvailability(kit: KitDefinition, rowsOf: (sku: string) => readonly ComponentRow[]): KitAvailability {
  const components = kit.components.map((c) => {
    const available = rowsOf(c.sku).reduce((sum, w) => sum + w.available, 0);
    return { sku: c.sku, quantity: c.quantity, available, kits: Math.floor(available / c.quantity) };
  });
  const perWarehouse = kit.components.map((c) => new Map(rowsOf(c.sku).map((w) => [w.warehouseId, w])));
  const [first] = kit.components;
  const warehouses = rowsOf(first.sku)
    .filter((w) => perWarehouse.every((rows) => rows.has(w.warehouseId)))
    .map((w) => ({
      warehouseId: w.warehouseId,
      region: w.region,
      available: Math.min(...kit.components.map((c, i) => Math.floor(perWarehouse[i].get(w.warehouseId)!.available / c.quantity))),
    }));
  return { available: Math.min(...components.map((c) => c.kits)), components, warehouses };
}
