import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateTransferRequest } from './create-transfer.request.dto.js';

const valid = { sku: 'SKU-1', fromWarehouseId: 'nyc-1', toWarehouseId: 'fra-1', quantity: 12 };
const failures = (body: Record<string, unknown>): string[] =>
  validateSync(plainToInstance(CreateTransferRequest, body), { forbidUnknownValues: true }).flatMap((e) =>
    Object.keys(e.constraints ?? {}).map((c) => `${e.property}:${c}`),
  );

describe('CreateTransferRequest', () => {
  it('accepts a transfer between two warehouses', () => {
    expect(failures(valid)).toEqual([]);
    expect(failures({ ...valid, quantity: 1_000_000_000 })).toEqual([]);
  });

  it.each([
    ['zero', { quantity: 0 }, 'quantity:min'],
    ['a negative quantity', { quantity: -3 }, 'quantity:min'],
    ['a fractional quantity', { quantity: 2.5 }, 'quantity:isInt'],
    ['a huge quantity', { quantity: 1_000_000_001 }, 'quantity:max'],
    ['a quantity as a string', { quantity: '5' }, 'quantity:isInt'],
    ['the same warehouse twice', { toWarehouseId: 'nyc-1' }, 'toWarehouseId:differsFrom'],
    ['an injected SKU', { sku: "SKU'; DROP TABLE stock;--" }, 'sku:matches'],
    ['a warehouse with a slash', { fromWarehouseId: '../nyc-1' }, 'fromWarehouseId:matches'],
    ['a missing destination', { toWarehouseId: undefined }, 'toWarehouseId:matches'],
  ])('refuses %s', (_, change, expected) => {
    expect(failures({ ...valid, ...change })).toContain(expected);
  });
});
