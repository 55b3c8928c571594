import { describe, expect, it } from '@jest/globals';
import { batchRowErrors, changeOf, reasonOf, rowIdempotency } from './batch-rows.js';
import type { BatchStockRow } from './batch-stock.request.dto.js';

const set = (sku: string, extra: Partial<BatchStockRow> = {}): BatchStockRow => ({
  warehouseId: 'w1',
  sku,
  op: 'set',
  quantity: 1,
  ...extra,
});
const adjust = (sku: string, extra: Partial<BatchStockRow> = {}): BatchStockRow =>
  ({ warehouseId: 'w1', sku, op: 'adjust', delta: 1, reason: 'found', ...extra }) as BatchStockRow;

describe('batchRowErrors', () => {
  it('accepts rows that each name what their operation needs', () => {
    expect(batchRowErrors([set('a'), adjust('b'), set('c', { reason: 'cycle-count' }), set('a', { warehouseId: 'w2' })])).toEqual([]);
  });

  it('names every field that does not fit the operation', () => {
    const errors = batchRowErrors([
      set('a', { quantity: undefined, delta: 2 }),
      adjust('b', { delta: undefined, reason: undefined, quantity: 3 }),
      set('c', { reason: 'damaged' }),
    ]);
    expect(errors.map((e) => e.field)).toEqual([
      'rows.0.quantity',
      'rows.0.delta',
      'rows.1.delta',
      'rows.1.quantity',
      'rows.1.reason',
      'rows.2.reason',
    ]);
  });

  it('lets a set row set the safety stock, with or without a count, and never an adjust row', () => {
    expect(batchRowErrors([set('a', { safetyStock: 3 }), set('b', { quantity: undefined, safetyStock: 0 })])).toEqual([]);
    const errors = batchRowErrors([set('a', { quantity: undefined }), adjust('b', { safetyStock: 2 })]);
    expect(errors.map((e) => [e.field, e.constraint])).toEqual([
      ['rows.0.quantity', 'isDefined'],
      ['rows.1.safetyStock', 'isEmpty'],
    ]);
    expect(changeOf(set('c', { quantity: undefined, safetyStock: 4 }))).toEqual({ kind: 'set', safetyStock: 4 });
    expect(changeOf(set('c', { quantity: 7, safetyStock: 4 }))).toEqual({ kind: 'set', onHand: 7, safetyStock: 4 });
    expect(reasonOf(set('c', { quantity: undefined, safetyStock: 4 }))).toBe('safety-stock');
    expect(reasonOf(set('c', { safetyStock: 4 }))).toBe('cycle-count');
  });

  it('refuses a (warehouse, sku) or a row key twice, naming the later row', () => {
    const errors = batchRowErrors([set('a', { idempotencyKey: 'k' }), adjust('a'), set('b', { idempotencyKey: 'k' })]);
    expect(errors.map((e) => [e.field, e.constraint])).toEqual([
      ['rows.1.sku', 'unique'],
      ['rows.2.idempotencyKey', 'unique'],
    ]);
    expect(errors[0].message).toContain('first in rows.0');
  });
});

describe('rowIdempotency', () => {
  const scope = 'key1 POST /v1/stock/batch';

  it('has no key without a row key or a request key', () => {
    expect(rowIdempotency(set('a'), scope, undefined)).toBeUndefined();
  });

  it("derives a row's key from the request key and the row's identity, not its position", () => {
    const derived = rowIdempotency(set('a'), scope, 'req-1');
    expect(derived).toMatchObject({ key: 'req-1 w1/a', scope });
    expect(rowIdempotency(set('a'), scope, 'req-1')).toEqual(derived);
  });

  it("prefers the row's own key, and fingerprints the row without it", () => {
    const own = rowIdempotency(set('a', { idempotencyKey: 'mine' }), scope, 'req-1');
    expect(own?.key).toBe('mine');
    expect(own?.fingerprint).toBe(rowIdempotency(set('a'), scope, 'req-1')?.fingerprint);
    expect(own?.fingerprint).not.toBe(rowIdempotency(set('a', { quantity: 2 }), scope, 'req-1')?.fingerprint);
    // Key order does not matter, nor do absent fields.
    const reordered = { quantity: 1, op: 'set', sku: 'a', warehouseId: 'w1', delta: undefined } as unknown as BatchStockRow;
    expect(rowIdempotency(reordered, scope, 'x')?.fingerprint).toBe(own?.fingerprint);
  });
});
