import { describe, expect, it } from '@jest/globals';
import { MAX_QUANTITY } from '@stockmesh/contracts';
import fc from 'fast-check';
import { applyChange, type StockLevel } from './stock-level.js';
import { StockException } from './stock.exception.js';

const level = (onHand: number, reserved = 0, version = 1): StockLevel => ({ onHand, reserved, version });

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

  it('never produces a row that breaks an invariant', () => {
    const arbitraryLevel = fc
      .tuple(fc.integer({ min: 0, max: MAX_QUANTITY }), fc.integer({ min: 0, max: MAX_QUANTITY }), fc.nat())
      .map(([a, b, version]) => level(Math.max(a, b), Math.min(a, b), version));
    const arbitraryChange = fc.oneof(
      fc.integer({ min: -MAX_QUANTITY, max: MAX_QUANTITY }).map((delta) => ({ kind: 'adjustment' as const, delta })),
      fc.integer({ min: 0, max: MAX_QUANTITY }).map((onHand) => ({ kind: 'set' as const, onHand })),
    );
    fc.assert(
      fc.property(arbitraryLevel, arbitraryChange, (current, change) => {
        try {
          const { next, delta } = applyChange(current, change);
          expect(next.onHand).toBeGreaterThanOrEqual(next.reserved);
          expect(next.onHand).toBeLessThanOrEqual(MAX_QUANTITY);
          expect(next.onHand - current.onHand).toBe(delta);
          expect(next.version).toBe(current.version + 1);
        } catch (e) {
          expect(e).toBeInstanceOf(StockException);
        }
      }),
    );
  });
});
