import { MAX_QUANTITY, MAX_RESERVATION_LINES } from '@stockmesh/contracts';
import type { CommitLine } from './commit-reservation/partial-commit-plan.js';
import type { ReservationLine } from './reservation.repository.js';

/** A kit as a reservation expands it: what one unit takes of each component. */
export interface KitComponents {
  readonly sku: string;
  readonly components: readonly { readonly sku: string; readonly quantity: number }[];
}

export type KitExpansion =
  | { readonly kind: 'lines'; readonly lines: ReservationLine[] }
  | { readonly kind: 'too-large'; readonly detail: string; readonly extensions: Record<string, unknown> };

/**
 * A reservation's lines with every kit line replaced by one line per component (the line's
 * quantity times the component's), in place and in the kit's order; each remembers its kit and the
 * request line it came from. The saga then holds the component lines like any other, all or
 * none, each with a conditional hold at the row's owner, so a component shared by several kits is
 * never held beyond what its owner has. A kit line naming a warehouse holds every component there.
 *
 * Bounded like a request: at most MAX_RESERVATION_LINES lines once expanded, and no line above
 * MAX_QUANTITY units; otherwise `too-large`, and nothing is held.
 */
export function expandKitLines(lines: readonly ReservationLine[], kits: ReadonlyMap<string, KitComponents>): KitExpansion {
  const expanded: ReservationLine[] = [];
  for (const [i, line] of lines.entries()) {
    const kit = kits.get(line.sku);
    if (!kit) {
      expanded.push(line);
      continue;
    }
    for (const c of kit.components) {
      const quantity = line.quantity * c.quantity;
      if (quantity > MAX_QUANTITY) {
        return {
          kind: 'too-large',
          detail: `line ${i + 1} asks for ${quantity} units of ${c.sku} (component of kit ${kit.sku}), more than ${MAX_QUANTITY}`,
          extensions: { line: i + 1, sku: kit.sku },
        };
      }
      expanded.push({
        sku: c.sku,
        quantity,
        ...(line.warehouseId === undefined ? {} : { warehouseId: line.warehouseId }),
        kit: { sku: kit.sku, line: i + 1, perKit: c.quantity },
      });
    }
  }
  if (expanded.length > MAX_RESERVATION_LINES) {
    return {
      kind: 'too-large',
      detail: `with its kits expanded into their components the reservation has ${expanded.length} lines, more than ${MAX_RESERVATION_LINES}`,
      extensions: { lines: expanded.length, maxLines: MAX_RESERVATION_LINES },
    };
  }
  return { kind: 'lines', lines: expanded };
}

/** A partial commit's line as the plan takes it: units of a SKU from the allocations of one kit (or of plain lines). */
export interface PlannedCommitLine extends CommitLine {
  /** The kit whose component allocations the units come from; `undefined`: plain lines only. */
  readonly kitSku?: string;
  /** The commit request's line (1-based) it came from, for errors. */
  readonly origin: number;
}

/**
 * A partial commit's lines against a reservation's stored lines: a line naming a kit the
 * reservation holds commits that many whole kits, so it becomes one line per component (units
 * per kit times kits) taken from that kit's allocations only. Any other line takes from the
 * allocations of plain lines only: a kit is committed or released whole, never one component of it.
 */
export function commitLinesOf(lines: readonly CommitLine[], stored: readonly ReservationLine[]): PlannedCommitLine[] {
  const components = new Map<string, { sku: string; perKit: number }[]>();
  for (const line of stored) {
    if (line.kit === undefined) continue;
    const list = components.get(line.kit.sku) ?? [];
    if (!list.some((c) => c.sku === line.sku)) list.push({ sku: line.sku, perKit: line.kit.perKit });
    components.set(line.kit.sku, list);
  }
  return lines.flatMap((line, i): PlannedCommitLine[] => {
    const kit = components.get(line.sku);
    if (!kit) return [{ ...line, origin: i + 1 }];
    return kit.map((c) => ({
      origin: i + 1,
      sku: c.sku,
      quantity: line.quantity * c.perKit,
      ...(line.warehouseId === undefined ? {} : { warehouseId: line.warehouseId }),
      kitSku: line.sku,
    }));
  });
}
