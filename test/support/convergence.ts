import { call, type Reachable } from './inject.js';

interface WarehouseRow {
  readonly warehouseId: string;
  readonly region: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  readonly incoming: readonly { readonly receiptId: string; readonly quantity: number; readonly expectedAt: string }[];
  readonly backordered: number;
  readonly version: number;
}

/** Every (warehouse, sku) row a region holds for the SKUs, own and replicated, as `warehouse/sku → state`. */
export async function globalView(region: Reachable, skus: readonly string[]): Promise<Map<string, string>> {
  const view = new Map<string, string>();
  for (let i = 0; i < skus.length; i += 500) {
    const answer = await call<{ items: { sku: string; warehouses: WarehouseRow[] }[] }>(region, 'POST', '/v1/availability/query', {
      body: { skus: skus.slice(i, i + 500) },
      retryBusy: true,
    });
    if (answer.status !== 200) throw new Error(`availability query answered ${answer.status}`);
    for (const item of answer.body.items) {
      for (const w of item.warehouses)
        view.set(
          `${w.warehouseId}/${item.sku}`,
          `${w.region}:${w.onHand}:${w.reserved}:s${w.safetyStock}:i${w.incoming.map((r) => `${r.receiptId}=${r.quantity}@${r.expectedAt}`).join(',')}:b${w.backordered}:v${w.version}`,
        );
    }
  }
  return view;
}

/** The differences between two views, for failure messages; empty when they are identical. */
export function viewDiff(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '-'} vs ${b.get(k) ?? '-'}`);
}

/** Each owner's own rows of the SKUs, read from the owner: the truth every replica must reach. */
export async function ownersTruth(regions: readonly { id: string; url: string }[], skus: readonly string[]): Promise<Map<string, string>> {
  const truth = new Map<string, string>();
  for (const region of regions) {
    for (const [key, state] of await globalView(region, skus)) if (state.startsWith(`${region.id}:`)) truth.set(key, state);
  }
  return truth;
}

/** Where each region's view of the SKUs differs from the owners' rows, as `region key: theirs vs truth`; empty when converged. */
export async function divergence(regions: readonly { id: string; url: string }[], skus: readonly string[]): Promise<string[]> {
  const truth = await ownersTruth(regions, skus);
  const out: string[] = [];
  for (const region of regions) out.push(...viewDiff(await globalView(region, skus), truth).map((d) => `${region.id} ${d}`));
  return out;
}
