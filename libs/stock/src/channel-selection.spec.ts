import { describe, expect, it } from '@jest/globals';
import { withinChannel } from './channel-selection.js';

describe('withinChannel', () => {
  const rows = [{ warehouseId: 'nyc-1' }, { warehouseId: 'fra-1' }, { warehouseId: 'bom-1' }, { warehouseId: 'lon-1' }];

  it('keeps only the channel’s warehouses, in the channel’s order', () => {
    expect(withinChannel(rows, ['lon-1', 'nyc-1', 'fra-1']).map((r) => r.warehouseId)).toEqual(['lon-1', 'nyc-1', 'fra-1']);
  });

  it('leaves out a warehouse of the channel that has no entry', () => {
    expect(withinChannel(rows, ['sin-1', 'bom-1']).map((r) => r.warehouseId)).toEqual(['bom-1']);
  });

  it('does not change what it was given', () => {
    const copy = [...rows];
    withinChannel(rows, ['fra-1', 'nyc-1']);
    expect(rows).toEqual(copy);
  });
});
