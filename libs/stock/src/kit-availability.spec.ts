import { describe, expect, it } from '@jest/globals';
import { kitAvailability, type ComponentRow } from './kit-availability.js';

const KIT = {
  sku: 'CAM-KIT',
  components: [
    { sku: 'BODY', quantity: 1 },
    { sku: 'LENS', quantity: 2 },
  ],
};
const rows = (table: Record<string, ComponentRow[]>) => (sku: string) => table[sku] ?? [];
const row = (warehouseId: string, available: number, region = 'eu-west'): ComponentRow => ({ warehouseId, region, available });

describe('kitAvailability', () => {
  it('is the scarcest component per warehouse, and in total over every warehouse', () => {
    const view = kitAvailability(
      KIT,
      rows({
        BODY: [row('fra-1', 5), row('nyc-1', 1, 'us-east')],
        LENS: [row('fra-1', 3), row('nyc-1', 9, 'us-east')],
      }),
    );
    // fra-1: min(5/1, floor(3/2)) = 1; nyc-1: min(1, 4) = 1; total: min(6, floor(12/2)) = 6.
    expect(view.warehouses).toEqual([
      { warehouseId: 'fra-1', region: 'eu-west', available: 1 },
      { warehouseId: 'nyc-1', region: 'us-east', available: 1 },
    ]);
    expect(view.available).toBe(6);
    expect(view.components).toEqual([
      { sku: 'BODY', quantity: 1, available: 6, kits: 6 },
      { sku: 'LENS', quantity: 2, available: 12, kits: 6 },
    ]);
  });

  it('leaves out a warehouse missing a component, and is 0 when a component has no stock anywhere', () => {
    const partial = kitAvailability(KIT, rows({ BODY: [row('fra-1', 5), row('bom-1', 4)], LENS: [row('fra-1', 1)] }));
    expect(partial.warehouses).toEqual([{ warehouseId: 'fra-1', region: 'eu-west', available: 0 }]);
    expect(partial.available).toBe(0);
    const none = kitAvailability(KIT, rows({ BODY: [row('fra-1', 5)] }));
    expect(none).toMatchObject({ available: 0, warehouses: [] });
  });

  it('keeps the order of the rows it is given (a channel’s order)', () => {
    const view = kitAvailability(KIT, rows({ BODY: [row('nyc-1', 2), row('fra-1', 2)], LENS: [row('fra-1', 4), row('nyc-1', 4)] }));
    expect(view.warehouses.map((w) => w.warehouseId)).toEqual(['nyc-1', 'fra-1']);
  });
});
