import { describe, expect, it } from '@jest/globals';
import { candidatesFor, quantityToAsk, reservableStock, type WarehouseStock } from './allocation-policy.js';

const stock: WarehouseStock[] = [
  { warehouseId: 'fra-1', region: 'eu-west', available: 5 },
  { warehouseId: 'nyc-2', region: 'us-east', available: 2 },
  { warehouseId: 'nyc-1', region: 'us-east', available: 9 },
  { warehouseId: 'bom-1', region: 'ap-south', available: 40 },
  { warehouseId: 'dub-1', region: 'eu-west', available: 0 },
];
const order = ['us-east', 'eu-west', 'ap-south'];

describe('reservableStock', () => {
  it('counts the safety stock only for a reservation allowed into it', () => {
    const row = { warehouseId: 'fra-1', region: 'eu-west', onHand: 10, reserved: 3, available: 0 };
    expect(reservableStock(row, false)).toEqual({ warehouseId: 'fra-1', region: 'eu-west', available: 0 });
    expect(reservableStock(row, true)).toEqual({ warehouseId: 'fra-1', region: 'eu-west', available: 7 });
  });
});

describe('candidatesFor', () => {
  it('tries the serving region first, then the allocation order, most available first within a region', () => {
    expect(candidatesFor({ quantity: 1 }, stock, order, true).map((c) => c.warehouseId)).toEqual(['nyc-1', 'nyc-2', 'fra-1', 'bom-1']);
  });

  it('without splitting, only tries warehouses showing the whole quantity', () => {
    expect(candidatesFor({ quantity: 6 }, stock, order, false).map((c) => c.warehouseId)).toEqual(['nyc-1', 'bom-1']);
  });

  it('never draws from a region outside the order, nor from warehouses with nothing available', () => {
    expect(candidatesFor({ quantity: 1 }, stock, ['eu-west'], true).map((c) => c.warehouseId)).toEqual(['fra-1']);
  });

  it('tries exactly the named warehouse for a line that names one, even if the view shows too little', () => {
    expect(candidatesFor({ quantity: 50, warehouseId: 'fra-1' }, stock, order, false)).toEqual([
      { warehouseId: 'fra-1', region: 'eu-west', available: 5 },
    ]);
    expect(candidatesFor({ quantity: 1, warehouseId: 'nowhere' }, stock, order, false)).toEqual([]);
  });

  it('for a channel, tries only its warehouses, in its order, whatever their region', () => {
    const channel = ['bom-1', 'dub-1', 'fra-1', 'lon-1'];
    expect(candidatesFor({ quantity: 1 }, stock, order, true, channel).map((c) => c.warehouseId)).toEqual(['bom-1', 'fra-1']);
    // Without splitting, still only those showing the whole quantity; a region outside the order too.
    expect(candidatesFor({ quantity: 6 }, stock, ['us-east'], false, channel).map((c) => c.warehouseId)).toEqual(['bom-1']);
  });

  it('for a channel, a line naming a warehouse still has that one candidate', () => {
    expect(candidatesFor({ quantity: 1, warehouseId: 'fra-1' }, stock, order, true, ['bom-1', 'fra-1'])).toEqual([
      { warehouseId: 'fra-1', region: 'eu-west', available: 5 },
    ]);
  });
});

describe('quantityToAsk', () => {
  it('asks for the rest, or for what the candidate shows when splitting', () => {
    const c = { warehouseId: 'x', region: 'r', available: 3 };
    expect(quantityToAsk(10, c, false)).toBe(10);
    expect(quantityToAsk(10, c, true)).toBe(3);
    expect(quantityToAsk(2, c, true)).toBe(2);
  });
});
