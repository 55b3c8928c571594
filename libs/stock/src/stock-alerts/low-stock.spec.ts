import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isLow, lowStockTransition, type LowStockRow, type StockAlertKind } from './low-stock.js';

type Quantities = Omit<LowStockRow, 'lowStock' | 'lowStockThreshold'>;

// The rule stated independently: low when a threshold is set and onHand - reserved - safetyStock,
// floored at 0, is below it.
const lowByHand = (q: Quantities, threshold: number): boolean =>
  threshold > 0 && Math.max(0, q.onHand - q.reserved - q.safetyStock) < threshold;

const quantities = fc
  .record({
    onHand: fc.integer({ min: 0, max: 40 }),
    reserved: fc.integer({ min: 0, max: 40 }),
    safetyStock: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 })),
  })
  .map((q) => ({ ...q, reserved: Math.min(q.reserved, q.onHand) }));

/** Runs changes through the rule as the owner does: each sees the state the one before stored. */
function announce(states: readonly (Quantities & { readonly lowStockThreshold: number })[]): (StockAlertKind | undefined)[] {
  let lowStock = false;
  return states.map((state) => {
    const step = lowStockTransition({ ...state, lowStock });
    lowStock = step.lowStock;
    return step.alert;
  });
}

describe('lowStockTransition', () => {
  it('announces low when available drops below the threshold, and back-in-stock when it is at or above it again', () => {
    const row = { onHand: 10, reserved: 0, safetyStock: 0, lowStockThreshold: 5 };
    expect(lowStockTransition({ ...row, lowStock: false })).toEqual({ lowStock: false });
    expect(lowStockTransition({ ...row, reserved: 6, lowStock: false })).toEqual({ lowStock: true, alert: 'low' });
    expect(lowStockTransition({ ...row, reserved: 6, lowStock: true })).toEqual({ lowStock: true });
    expect(lowStockTransition({ ...row, reserved: 5, lowStock: true })).toEqual({ lowStock: false, alert: 'back-in-stock' });
  });

  it('counts available as storefronts see it: less the safety stock, never below 0', () => {
    expect(isLow({ onHand: 10, reserved: 0, safetyStock: 6, lowStockThreshold: 5 })).toBe(true);
    expect(isLow({ onHand: 10, reserved: 0, safetyStock: 40, lowStockThreshold: 1 })).toBe(true);
    expect(isLow({ onHand: 10, reserved: 0, safetyStock: 5, lowStockThreshold: 5 })).toBe(false);
  });

  it('never alerts without a threshold, and turning the alerts off ends a low state silently', () => {
    expect(lowStockTransition({ onHand: 0, reserved: 0, safetyStock: 0, lowStockThreshold: 0, lowStock: false })).toEqual({
      lowStock: false,
    });
    expect(lowStockTransition({ onHand: 0, reserved: 0, safetyStock: 0, lowStockThreshold: 0, lowStock: true })).toEqual({
      lowStock: false,
    });
  });

  it('announces low once when a threshold is set above what is available', () => {
    expect(announce([{ onHand: 3, reserved: 0, safetyStock: 0, lowStockThreshold: 10 }])).toEqual(['low']);
    expect(
      announce([
        { onHand: 3, reserved: 0, safetyStock: 0, lowStockThreshold: 10 },
        { onHand: 3, reserved: 0, safetyStock: 0, lowStockThreshold: 12 },
      ]),
    ).toEqual(['low', undefined]);
  });

  it('over any sequence of changes with a fixed threshold, alerts alternate low / back-in-stock and come exactly at the crossings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(quantities, { maxLength: 60 }), (threshold, sequence) => {
        const alerts = announce(sequence.map((q) => ({ ...q, lowStockThreshold: threshold })));
        let wasLow = false;
        sequence.forEach((q, i) => {
          const low = lowByHand(q, threshold);
          expect(alerts[i]).toBe(low === wasLow ? undefined : low ? 'low' : 'back-in-stock');
          wasLow = low;
        });
        const fired = alerts.filter((a) => a !== undefined);
        fired.forEach((alert, i) => expect(alert).toBe(i % 2 === 0 ? 'low' : 'back-in-stock'));
      }),
    );
  });

  it('with thresholds changing (and turned off) along the way, alerts still alternate and none comes without a threshold', () => {
    const step = fc.record({ q: quantities, threshold: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (sequence) => {
        const alerts = announce(sequence.map(({ q, threshold }) => ({ ...q, lowStockThreshold: threshold })));
        let announcedLow = false;
        sequence.forEach(({ q, threshold }, i) => {
          const alert = alerts[i];
          if (threshold === 0) expect(alert).toBeUndefined();
          if (alert === 'low') expect(announcedLow).toBe(false);
          if (alert === 'back-in-stock') expect(announcedLow).toBe(true);
          if (threshold > 0) announcedLow = lowByHand(q, threshold);
          else announcedLow = false;
        });
      }),
    );
  });

  it('a batch judged on its final row announces the net of the crossings its changes would have announced one by one', () => {
    // Group-committed holds are judged once, on the row after the batch: an even number of
    // crossings within the batch announces nothing, an odd number the last one.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(quantities, { minLength: 2, maxLength: 256 }), (threshold, rows) => {
        const states = rows.map((q) => ({ ...q, lowStockThreshold: threshold }));
        const [start, ...batch] = states;
        const oneByOne = announce(states)
          .slice(1)
          .filter((a) => a !== undefined);
        const { alert } = lowStockTransition({ ...batch[batch.length - 1]!, lowStock: isLow(start!) });
        expect(alert).toBe(oneByOne.length % 2 === 0 ? undefined : oneByOne[oneByOne.length - 1]);
      }),
    );
  });
});
