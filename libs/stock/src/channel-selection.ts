/** A sales channel as availability and allocation use it: its id and its warehouses, in order. */
export interface ChannelSelection {
  readonly id: string;
  readonly warehouseIds: readonly string[];
}

/**
 * The entries of the channel's warehouses, in the channel's order (the order its reservations
 * draw from them); the others are left out. A warehouse of the channel with no entry (no stock
 * recorded, or its registration not replicated here yet) is simply absent.
 */
export function withinChannel<T extends { readonly warehouseId: string }>(entries: readonly T[], warehouseIds: readonly string[]): T[] {
  const rank = new Map(warehouseIds.map((id, i) => [id, i]));
  return entries.filter((e) => rank.has(e.warehouseId)).sort((a, b) => (rank.get(a.warehouseId) ?? 0) - (rank.get(b.warehouseId) ?? 0));
}
