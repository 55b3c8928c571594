import type { AllocationRecord } from '../reservation.repository.js';

/** One line of a partial commit: units of a SKU (in one warehouse, if named) that leave on-hand. */
export interface CommitLine {
  readonly sku: string;
  readonly warehouseId?: string;
  readonly quantity: number;
}

export type PartialCommitPlan =
  /** Allocation number to the units its commit takes (0: released instead), for every held allocation. */
  | { readonly kind: 'plan'; readonly units: ReadonlyMap<number, number> }
  | { readonly kind: 'invalid'; readonly detail: string; readonly extensions: Record<string, unknown> };

/**
 * Spreads a partial commit's lines over the reservation's held allocations: each line takes its
 * units from the allocations of its SKU (and warehouse, if it names one) in allocation order, the
 * order the saga held them in. What no line takes is released. Invalid when a line asks for more
 * than those allocations still hold after the lines before it, or when nothing would be committed
 * (that is a release). A line of a kit's component (`kitSku`, see `commitLinesOf`) takes only from
 * that kit's allocations, and any other line only from allocations of plain lines.
 */
export function planPartialCommit(
  allocations: readonly (Pick<AllocationRecord, 'allocationNo' | 'sku' | 'warehouseId' | 'quantity' | 'state'> & {
    readonly kitSku?: string;
  })[],
  lines: readonly (CommitLine & { readonly kitSku?: string; readonly origin?: number })[],
): PartialCommitPlan {
  const held = allocations.filter((a) => a.state === 'held').sort((a, b) => a.allocationNo - b.allocationNo);
  const units = new Map(held.map((a) => [a.allocationNo, 0]));
  for (const [i, line] of lines.entries()) {
    const lineNo = line.origin ?? i + 1;
    let missing = line.quantity;
    for (const a of held) {
      if (missing === 0) break;
      if (a.sku !== line.sku || a.kitSku !== line.kitSku || (line.warehouseId !== undefined && a.warehouseId !== line.warehouseId))
        continue;
      const take = Math.min(missing, a.quantity - units.get(a.allocationNo)!);
      units.set(a.allocationNo, units.get(a.allocationNo)! + take);
      missing -= take;
    }
    if (missing > 0) {
      const where = line.warehouseId === undefined ? '' : ` in ${line.warehouseId}`;
      const of = line.kitSku === undefined ? '' : ` (component of kit ${line.kitSku})`;
      return {
        kind: 'invalid',
        detail: `line ${lineNo} commits ${line.quantity} of ${line.sku}${of}${where}, but the reservation holds only ${line.quantity - missing} more of it`,
        extensions: {
          line: lineNo,
          sku: line.sku,
          ...(line.kitSku === undefined ? {} : { kitSku: line.kitSku }),
          ...(line.warehouseId === undefined ? {} : { warehouseId: line.warehouseId }),
        },
      };
    }
  }
  if ([...units.values()].every((n) => n === 0)) {
    return { kind: 'invalid', detail: 'the commit takes no units; release the reservation instead', extensions: {} };
  }
  return { kind: 'plan', units };
}
