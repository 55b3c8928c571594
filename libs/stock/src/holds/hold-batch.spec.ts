import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { shardOf } from '@stockmesh/sharding';
import { decideHolds, holdLimits, laneOf, rowKey, type BatchedHold, type HoldDecision, type HoldLevel } from './hold-batch.js';

// The reference: holds placed one after the other, each as the one-hold transaction does it (a
// conditional UPDATE: granted when on_hand - reserved - safety_stock >= quantity, or, for a hold
// allowed into the safety stock, on_hand - reserved >= quantity; version + 1). A backorder takes
// what that leaves on hand, and the rest out of expected - backordered, or is refused whole.
// Written out here rather than through holdableUnits, so that the rule is stated twice, independently.
function oneByOne(
  rows: ReadonlyMap<string, HoldLevel>,
  holds: readonly BatchedHold[],
): { decisions: HoldDecision[]; rows: Map<string, HoldLevel> } {
  const state = new Map(rows);
  const decisions = holds.map((hold): HoldDecision => {
    const row = state.get(rowKey(hold));
    if (!row) return { granted: false, available: 0 };
    const limit = Math.max(0, row.onHand - row.reserved - (hold.mayUseSafetyStock ? 0 : row.safetyStock));
    const promisable = hold.allowBackorder ? Math.max(0, row.expected - row.backordered) : 0;
    if (limit + promisable < hold.quantity) return { granted: false, available: limit + promisable };
    const backordered = Math.max(0, hold.quantity - limit);
    const after = {
      ...row,
      reserved: row.reserved + hold.quantity - backordered,
      backordered: row.backordered + backordered,
      version: row.version + 1,
    };
    state.set(rowKey(hold), after);
    return { granted: true, after, backordered };
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
    backordered: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })),
    // Mostly no receipts; sometimes fewer expected than promised (a receipt cut since).
    expected: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
    version: fc.integer({ min: 0, max: 1_000 }),
  })
  .map((l) => ({ ...l, reserved: Math.min(l.reserved, l.onHand) }));
const rowsArb = fc
  .subarray(warehouses.flatMap((warehouseId) => skus.map((sku) => ({ warehouseId, sku }))))
  .chain((keys) => fc.tuple(...keys.map((key) => level.map((l) => [rowKey(key), l] as const))))
  .map((entries) => new Map<string, HoldLevel>(entries));
const holdsArb = fc.array(
  fc.record({
    warehouseId: fc.constantFrom(...warehouses),
    sku: fc.constantFrom(...skus),
    quantity: fc.integer({ min: 1, max: 12 }),
    mayUseSafetyStock: fc.boolean(),
    allowBackorder: fc.boolean(),
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
        // Never more reserved than on hand, nor more promised out of receipts than they expect
        // (unless it was so before the batch, and then it never grows).
        for (const [key, row] of batch.finalRows) {
          const before = rows.get(key)!;
          expect(row.reserved).toBeLessThanOrEqual(row.onHand);
          if (row.backordered > before.backordered) expect(row.backordered).toBeLessThanOrEqual(row.expected);
        }
        // Holds that do not allow backorders never promise incoming units.
        for (const [key, row] of decideHolds(
          rows,
          holds.filter((h) => !h.allowBackorder),
        ).finalRows)
          expect(row.backordered).toBe(rows.get(key)!.backordered);
        // Ordinary holds alone never reach into the safety stock.
        const ordinary = holds.filter((h) => !h.mayUseSafetyStock && !h.allowBackorder);
        for (const [key, row] of decideHolds(rows, ordinary).finalRows) {
          const before = rows.get(key)!;
          expect(row.reserved - before.reserved).toBeLessThanOrEqual(Math.max(0, before.onHand - before.reserved - before.safetyStock));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('lets a smaller hold through after a larger one was refused (first fit), and counts a version per granted hold', () => {
    const rows = new Map([
      [rowKey({ warehouseId: 'w1', sku: 'A' }), { onHand: 5, reserved: 0, safetyStock: 0, backordered: 0, expected: 0, version: 7 }],
    ]);
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
    expect(finalRows.get(rowKey({ warehouseId: 'w1', sku: 'A' }))).toEqual({
      onHand: 5,
      reserved: 5,
      safetyStock: 0,
      backordered: 0,
      expected: 0,
      version: 10,
    });
    expect(rows.get(rowKey({ warehouseId: 'w1', sku: 'A' }))).toEqual({
      onHand: 5,
      reserved: 0,
      safetyStock: 0,
      backordered: 0,
      expected: 0,
      version: 7,
    });
  });

  it('holds each hold of a mixed batch to its own limit: ordinary holds stop at the safety stock, allowed ones go into it', () => {
    const key = rowKey({ warehouseId: 'w1', sku: 'A' });
    const rows = new Map([[key, { onHand: 10, reserved: 1, safetyStock: 4, backordered: 0, expected: 0, version: 1 }]]);
    const h = (quantity: number, mayUseSafetyStock = false): BatchedHold => ({ warehouseId: 'w1', sku: 'A', quantity, mayUseSafetyStock });
    const { decisions, finalRows } = decideHolds(rows, [h(3), h(3), h(2, true), h(1), h(5, true), h(1, true)]);
    expect(decisions.map((d) => (d.granted ? `+${d.after.reserved}` : `-${d.available}`))).toEqual(['+4', '-2', '+6', '-0', '-4', '+7']);
    expect(finalRows.get(key)).toEqual({ onHand: 10, reserved: 7, safetyStock: 4, backordered: 0, expected: 0, version: 4 });
  });
});

describe('decideHolds with backorders', () => {
  it('takes on hand first, the rest out of what the receipts expect and nobody was promised, or refuses the hold whole', () => {
    const key = rowKey({ warehouseId: 'w1', sku: 'A' });
    // 3 on hand (1 of them reserved), 10 expected, 4 of those promised already.
    const rows = new Map([[key, { onHand: 3, reserved: 1, safetyStock: 0, backordered: 4, expected: 10, version: 1 }]]);
    const h = (quantity: number, allowBackorder = true): BatchedHold => ({ warehouseId: 'w1', sku: 'A', quantity, allowBackorder });
    const { decisions, finalRows } = decideHolds(rows, [h(3, false), h(9), h(5), h(2, false), h(6), h(1)]);
    expect(decisions.map((d) => (d.granted ? `+${d.after.reserved}/${d.backordered}` : `-${d.available}`))).toEqual([
      '-2',
      '-8',
      '+3/3',
      '-0',
      '-3',
      '+3/1',
    ]);
    expect(finalRows.get(key)).toMatchObject({ reserved: 3, backordered: 8, version: 3 });
  });
});

describe('holdLimits', () => {
  it('never lets a row promise more than 1,000,000,000 units, however much its receipts expect', () => {
    // 20 receipts of 1,000,000,000 each; 999,999,999 promised already.
    const row: HoldLevel = { onHand: 0, reserved: 0, safetyStock: 0, backordered: 999_999_999, expected: 20_000_000_000, version: 1 };
    expect(holdLimits(row, { allowBackorder: true })).toEqual({ onHand: 0, incoming: 1 });
    const key = rowKey({ warehouseId: 'w1', sku: 'A' });
    const h = (quantity: number): BatchedHold => ({ warehouseId: 'w1', sku: 'A', quantity, allowBackorder: true });
    const { decisions } = decideHolds(new Map([[key, row]]), [h(2), h(1), h(1)]);
    expect(decisions.map((d) => (d.granted ? `+${d.backordered}` : `-${d.available}`))).toEqual(['-1', '+1', '-0']);
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
