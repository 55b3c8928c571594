import { describe, expect, it } from '@jest/globals';
import { MAX_QUANTITY, MAX_RESERVATION_LINES } from '@stockmesh/contracts';
import { planPartialCommit } from './commit-reservation/partial-commit-plan.js';
import { commitLinesOf, expandKitLines } from './kit-lines.js';

const KIT = {
  sku: 'CAM-KIT',
  components: [
    { sku: 'BODY', quantity: 1 },
    { sku: 'LENS', quantity: 2 },
  ],
};
const KITS = new Map([[KIT.sku, KIT]]);

describe('expandKitLines', () => {
  it('replaces a kit line by its components in place, each remembering its kit and request line', () => {
    const expansion = expandKitLines(
      [
        { sku: 'STRAP', quantity: 1 },
        { sku: 'CAM-KIT', quantity: 3, warehouseId: 'fra-1' },
      ],
      KITS,
    );
    expect(expansion).toEqual({
      kind: 'lines',
      lines: [
        { sku: 'STRAP', quantity: 1 },
        { sku: 'BODY', quantity: 3, warehouseId: 'fra-1', kit: { sku: 'CAM-KIT', line: 2, perKit: 1 } },
        { sku: 'LENS', quantity: 6, warehouseId: 'fra-1', kit: { sku: 'CAM-KIT', line: 2, perKit: 2 } },
      ],
    });
  });

  it('refuses a reservation past the bounds of a request once expanded', () => {
    const lines = Array.from({ length: MAX_RESERVATION_LINES / 2 + 1 }, () => ({ sku: 'CAM-KIT', quantity: 1 }));
    expect(expandKitLines(lines, KITS)).toMatchObject({ kind: 'too-large', extensions: { lines: MAX_RESERVATION_LINES + 2 } });
    expect(expandKitLines([{ sku: 'CAM-KIT', quantity: MAX_QUANTITY }], KITS)).toMatchObject({
      kind: 'too-large',
      extensions: { line: 1, sku: 'CAM-KIT' },
    });
  });
});

describe('a partial commit of a reservation with kits', () => {
  // Line 1: 2 kits (BODY x2 split over two warehouses, LENS x4); line 2: a plain BODY.
  const stored = [
    { sku: 'BODY', quantity: 2, kit: { sku: 'CAM-KIT', line: 1, perKit: 1 } },
    { sku: 'LENS', quantity: 4, kit: { sku: 'CAM-KIT', line: 1, perKit: 2 } },
    { sku: 'BODY', quantity: 1 },
  ];
  const allocations = [
    { allocationNo: 1, lineNo: 0, sku: 'BODY', warehouseId: 'fra-1', quantity: 1, state: 'held' as const },
    { allocationNo: 2, lineNo: 0, sku: 'BODY', warehouseId: 'nyc-1', quantity: 1, state: 'held' as const },
    { allocationNo: 3, lineNo: 1, sku: 'LENS', warehouseId: 'fra-1', quantity: 4, state: 'held' as const },
    { allocationNo: 4, lineNo: 2, sku: 'BODY', warehouseId: 'fra-1', quantity: 1, state: 'held' as const },
  ].map((a) => ({ ...a, kitSku: stored[a.lineNo].kit?.sku }));

  it('commits whole kits: every component of each kit committed', () => {
    const plan = planPartialCommit(allocations, commitLinesOf([{ sku: 'CAM-KIT', quantity: 1 }], stored));
    expect(plan).toEqual({
      kind: 'plan',
      units: new Map([
        [1, 1],
        [2, 0],
        [3, 2],
        [4, 0],
      ]),
    });
  });

  it('takes a plain line from plain allocations only, never a kit’s component', () => {
    const plan = planPartialCommit(allocations, commitLinesOf([{ sku: 'BODY', quantity: 1 }], stored));
    expect(plan).toMatchObject({
      kind: 'plan',
      units: new Map([
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 1],
      ]),
    });
    expect(planPartialCommit(allocations, commitLinesOf([{ sku: 'BODY', quantity: 2 }], stored))).toMatchObject({
      kind: 'invalid',
      extensions: { line: 1, sku: 'BODY' },
    });
    expect(planPartialCommit(allocations, commitLinesOf([{ sku: 'CAM-KIT', quantity: 3 }], stored))).toMatchObject({
      kind: 'invalid',
      extensions: { line: 1, sku: 'BODY', kitSku: 'CAM-KIT' },
    });
  });
});
