import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { StockLevel } from '../stock-level.js';
import { shardOf } from '@stockmesh/sharding';
import { decideHolds, laneOf, rowKey, type BatchedHold, type HoldDecision } from './hold-batch.js';

// The reference: holds placed one after the other, each as the one-hold transaction does it (a
// conditional UPDATE: granted when on_hand - reserved - safety_stock >= quantity, or, for a hold
// allowed into the safety stock, on_hand - reserved >= quantity; version + 1). Written out here
// rather than through holdableUnits, so that the rule is stated twice, independently.
function oneByOne(
  rows: ReadonlyMap<string, StockLevel>,
  holds: readonly BatchedHold[],
): { decisions: HoldDecision[]; rows: Map<string, StockLevel> } {
  const state = new Map(rows);
  const decisions = holds.map((hold): HoldDecision => {
    const row = state.get(rowKey(hold));
    if (!row) return { granted: false, available: 0 };
    const limit = Math.max(0, row.onHand - row.reserved - (hold.mayUseSafetyStock ? 0 : row.safetyStock));
    if (limit < hold.quantity) return { granted: false, available: limit };
    const after = { onHand: row.onHand, reserved: row.reserved + hold.quantity, safetyStock: row.safetyStock, version: row.version + 1 };
    state.set(rowKey(hold), after);
    return { granted: true, after };
  });
  return { decisions, rows: state };
}

const warehouses = ['w1', 'w2'];
const skus = ['A', 'B', 'C'];
const level = fc
  .record({
    onHand: fc.integer({ min: 0, max: 30 }),
    reserved: fc.integer({ min: 0, max: 30 }),
    // Mostly some, sometimes none, sometimes more than on hand.
    safetyStock: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
    version: fc.integer({ min: 0, max: 1_000 }),
  })
  .map((l) => ({ ...l, reserved: Math.min(l.reserved, l.onHand) }));
const rowsArb = fc
  .subarray(warehouses.flatMap((warehouseId) => skus.map((sku) => ({ warehouseId, sku }))))
  .chain((keys) => fc.tuple(...keys.map((key) => level.map((l) => [rowKey(key), l] as const))))
  .map((entries) => new Map<string, StockLevel>(entries));
const holdsArb = fc.array(
  fc.record({
    warehouseId: fc.constantFrom(...warehouses),
    sku: fc.constantFrom(...skus),
    quantity: fc.integer({ min: 1, max: 12 }),
    mayUseSafetyStock: fc.boolean(),
  }),
  { maxLength: 60 },
);

describe('decideHolds', () => {
  it('decides any batch exactly as the same holds placed one after the other', () => {
    fc.assert(
      fc.property(rowsArb, holdsArb, (rows, holds) => {
        const batch = decideHolds(rows, holds);
        const reference = oneByOne(rows, holds);
        expect(batch.decisions).toEqual(reference.decisions);
        for (const [key, row] of batch.finalRows) expect(row).toEqual(reference.rows.get(key));
        // Only changed rows are written, and every changed row is.
        const changed = [...reference.rows].filter(([key, row]) => rows.get(key) !== row).map(([key]) => key);
        expect([...batch.finalRows.keys()].sort()).toEqual(changed.sort());
        // Never more reserved than on hand; the input is left as it was.
        for (const row of batch.finalRows.values()) expect(row.reserved).toBeLessThanOrEqual(row.onHand);
        // Ordinary holds alone never reach into the safety stock.
        const ordinary = holds.filter((h) => !h.mayUseSafetyStock);
        for (const [key, row] of decideHolds(rows, ordinary).finalRows) {
          const before = rows.get(key)!;
          expect(row.reserved - before.reserved).toBeLessThanOrEqual(Math.max(0, before.onHand - before.reserved - before.safetyStock));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('lets a smaller hold through after a larger one was refused (first fit), and counts a version per granted hold', () => {
    const rows = new Map([[rowKey({ warehouseId: 'w1', sku: 'A' }), { onHand: 5, reserved: 0, safetyStock: 0, version: 7 }]]);
    const h = (quantity: number): BatchedHold => ({ warehouseId: 'w1', sku: 'A', quantity });
    const { decisions, finalRows } = decideHolds(rows, [h(2), h(2), h(2), h(2), h(1), h(1)]);
    expect(decisions.map((d) => (d.granted ? `+${d.after.reserved}@${d.after.version}` : `-${d.available}`))).toEqual([
      '+2@8',
      '+4@9',
      '-1',
      '-1',
      '+5@10',
      '-0',
    ]);
    expect(finalRows.get(rowKey({ warehouseId: 'w1', sku: 'A' }))).toEqual({ onHand: 5, reserved: 5, safetyStock: 0, version: 10 });
    expect(rows.get(rowKey({ warehouseId: 'w1', sku: 'A' }))).toEqual({ onHand: 5, reserved: 0, safetyStock: 0, version: 7 });
  });

  it('holds each hold of a mixed batch to its own limit: ordinary holds stop at the safety stock, allowed ones go into it', () => {
    const key = rowKey({ warehouseId: 'w1', sku: 'A' });
    const rows = new Map([[key, { onHand: 10, reserved: 1, safetyStock: 4, version: 1 }]]);
    const h = (quantity: number, mayUseSafetyStock = false): BatchedHold => ({ warehouseId: 'w1', sku: 'A', quantity, mayUseSafetyStock });
    const { decisions, finalRows } = decideHolds(rows, [h(3), h(3), h(2, true), h(1), h(5, true), h(1, true)]);
    expect(decisions.map((d) => (d.granted ? `+${d.after.reserved}` : `-${d.available}`))).toEqual(['+4', '-2', '+6', '-0', '-4', '+7']);
    expect(finalRows.get(key)).toEqual({ onHand: 10, reserved: 7, safetyStock: 4, version: 4 });
  });
});

describe('laneOf', () => {
  it('puts a row always in one lane, and spreads the rows of a database over every lane', () => {
    const keys = Array.from({ length: 2_000 }, (_, i) => ({ warehouseId: `w${i % 7}`, sku: `SKU-${i}` }));
    const counts = [0, 0, 0, 0];
    for (const key of keys) {
      const lane = laneOf(key, 4);
      expect(laneOf({ ...key }, 4)).toBe(lane);
      counts[lane]!++;
    }
    for (const count of counts) expect(count).toBeGreaterThan(400);
    // The SKUs of one shard (one database) are spread too: the lane does not follow the shard hash.
    const shardZero = keys.filter((k) => shardOf(k.sku, 8) === 0);
    expect(new Set(shardZero.map((k) => laneOf(k, 4))).size).toBe(4);
    expect(laneOf(keys[0]!, 1)).toBe(0);
  });
});
