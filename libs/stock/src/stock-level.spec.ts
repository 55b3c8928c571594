import { describe, expect, it } from '@jest/globals';
import { MAX_QUANTITY } from '@stockmesh/contracts';
import fc from 'fast-check';
import { applyChange, holdableUnits, storefrontAvailable, type StockChange, type StockLevel } from './stock-level.js';
import { StockException } from './stock.exception.js';

const level = (onHand: number, reserved = 0, version = 1, safetyStock = 0): StockLevel => ({
  onHand,
  reserved,
  safetyStock,
  backordered: 0,
  version,
});

describe('applyChange', () => {
  it('adds and removes on-hand and bumps the version', () => {
    expect(applyChange(level(10), { kind: 'adjustment', delta: 5 })).toEqual({ next: level(15, 0, 2), delta: 5 });
    expect(applyChange(level(10, 4), { kind: 'adjustment', delta: -6 })).toEqual({ next: level(4, 4, 2), delta: -6 });
  });

  it('sets a count and reports the difference as the delta', () => {
    expect(applyChange(level(10, 2, 7), { kind: 'set', onHand: 3 })).toEqual({ next: level(3, 2, 8), delta: -7 });
    expect(applyChange(level(0, 0, 0), { kind: 'set', onHand: 0 })).toEqual({ next: level(0, 0, 1), delta: 0 });
  });

  it('refuses to go below the reserved units or below zero, and says what is there', () => {
    const refuse = (current: StockLevel, delta: number): StockException => {
      try {
        applyChange(current, { kind: 'adjustment', delta });
      } catch (e) {
        return e as StockException;
      }
      throw new Error('accepted');
    };
    const below = refuse(level(10, 4), -7);
    expect(below.code).toBe('insufficient-stock');
    expect(below.extensions).toMatchObject({ onHand: 10, reserved: 4, available: 6, requestedOnHand: 3 });
    expect(refuse(level(0, 0, 0), -1).code).toBe('insufficient-stock');
    expect(refuse(level(MAX_QUANTITY), 1).code).toBe('quantity-limit-exceeded');
    expect(() => applyChange(level(5, 5), { kind: 'set', onHand: 4 })).toThrow(StockException);
  });

  it('sets the safety stock with a count, alone or with on-hand, above on-hand too, and keeps it through other changes', () => {
    expect(applyChange(level(10, 2, 7, 3), { kind: 'set', safetyStock: 40 })).toEqual({ next: level(10, 2, 8, 40), delta: 0 });
    expect(applyChange(level(10, 2, 7, 3), { kind: 'set', onHand: 12, safetyStock: 0 })).toEqual({ next: level(12, 2, 8, 0), delta: 2 });
    expect(applyChange(level(10, 2, 7, 3), { kind: 'set', onHand: 2 })).toEqual({ next: level(2, 2, 8, 3), delta: -8 });
    expect(applyChange(level(10, 2, 7, 3), { kind: 'adjustment', delta: -8 })).toEqual({ next: level(2, 2, 8, 3), delta: -8 });
  });

  it('shows storefronts on-hand less reserved and safety stock, never below 0; a reservation allowed into it sees all unreserved units', () => {
    expect(storefrontAvailable(level(10, 2, 1, 3))).toBe(5);
    expect(storefrontAvailable(level(10, 2, 1, 9))).toBe(0);
    expect(holdableUnits(level(10, 2, 1, 9), false)).toBe(0);
    expect(holdableUnits(level(10, 2, 1, 9), true)).toBe(8);
    expect(holdableUnits(level(10, 2, 1, 0), false)).toBe(8);
  });

  it('never produces a row that breaks an invariant', () => {
    const arbitraryLevel = fc
      .tuple(fc.integer({ min: 0, max: MAX_QUANTITY }), fc.integer({ min: 0, max: MAX_QUANTITY }), fc.nat(), fc.nat(MAX_QUANTITY))
      .map(([a, b, version, safety]) => level(Math.max(a, b), Math.min(a, b), version, safety));
    const arbitraryChange: fc.Arbitrary<StockChange> = fc.oneof(
      fc.integer({ min: -MAX_QUANTITY, max: MAX_QUANTITY }).map((delta) => ({ kind: 'adjustment' as const, delta })),
      fc.integer({ min: 0, max: MAX_QUANTITY }).map((onHand) => ({ kind: 'set' as const, onHand })),
      fc.integer({ min: 0, max: MAX_QUANTITY }).map((safetyStock) => ({ kind: 'set' as const, safetyStock })),
    );
    fc.assert(
      fc.property(arbitraryLevel, arbitraryChange, (current, change) => {
        try {
          const { next, delta } = applyChange(current, change);
          expect(next.onHand).toBeGreaterThanOrEqual(next.reserved);
          expect(next.onHand).toBeLessThanOrEqual(MAX_QUANTITY);
          expect(next.onHand - current.onHand).toBe(delta);
          expect(next.version).toBe(current.version + 1);
          expect(next.safetyStock).toBe(
            change.kind === 'set' && change.safetyStock !== undefined ? change.safetyStock : current.safetyStock,
          );
        } catch (e) {
          expect(e).toBeInstanceOf(StockException);
        }
      }),
    );
  });
});
