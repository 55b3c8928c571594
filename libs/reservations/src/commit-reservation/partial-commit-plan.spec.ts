import { describe, expect, it } from '@jest/globals';
import type { AllocationState } from '../reservation.repository.js';
import { planPartialCommit } from './partial-commit-plan.js';

const allocation = (allocationNo: number, sku: string, warehouseId: string, quantity: number, state: AllocationState = 'held') => ({
  allocationNo,
  sku,
  warehouseId,
  quantity,
  state,
});

// SKU-A split over two warehouses (3 + 2), SKU-B in one (4), and a released leftover.
const ALLOCATIONS = [
  allocation(1, 'SKU-A', 'nyc-1', 3),
  allocation(2, 'SKU-A', 'fra-1', 2),
  allocation(3, 'SKU-B', 'nyc-1', 4),
  allocation(4, 'SKU-B', 'fra-1', 1, 'released'),
];

describe('planPartialCommit', () => {
  it('takes a line from its SKU’s allocations in order, and releases what no line takes', () => {
    expect(planPartialCommit(ALLOCATIONS, [{ sku: 'SKU-A', quantity: 4 }])).toEqual({
      kind: 'plan',
      units: new Map([
        [1, 3],
        [2, 1],
        [3, 0],
      ]),
    });
  });

  it('keeps to the warehouse a line names, and lets later lines use what earlier ones left', () => {
    const plan = planPartialCommit(ALLOCATIONS, [
      { sku: 'SKU-A', warehouseId: 'fra-1', quantity: 2 },
      { sku: 'SKU-A', quantity: 1 },
      { sku: 'SKU-B', quantity: 4 },
    ]);
    expect(plan).toEqual({
      kind: 'plan',
      units: new Map([
        [1, 1],
        [2, 2],
        [3, 4],
      ]),
    });
  });

  it('refuses more units than are held (after earlier lines), units of another warehouse, and committing nothing', () => {
    expect(planPartialCommit(ALLOCATIONS, [{ sku: 'SKU-A', quantity: 6 }])).toMatchObject({ kind: 'invalid', extensions: { line: 1 } });
    expect(
      planPartialCommit(ALLOCATIONS, [
        { sku: 'SKU-A', quantity: 4 },
        { sku: 'SKU-A', warehouseId: 'nyc-1', quantity: 1 },
      ]),
    ).toMatchObject({ kind: 'invalid', extensions: { line: 2, warehouseId: 'nyc-1' } });
    // Released allocations hold nothing any more.
    expect(planPartialCommit(ALLOCATIONS, [{ sku: 'SKU-B', warehouseId: 'fra-1', quantity: 1 }])).toMatchObject({ kind: 'invalid' });
    expect(planPartialCommit(ALLOCATIONS, [{ sku: 'SKU-C', quantity: 1 }])).toMatchObject({ kind: 'invalid' });
    expect(planPartialCommit(ALLOCATIONS, [])).toMatchObject({ kind: 'invalid', detail: expect.stringContaining('release') });
  });
});
