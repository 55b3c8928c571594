import { describe, expect, it } from '@jest/globals';
import { instanceToPlain, plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { StockChangedData } from './event-types.js';
import { fastStockChangedData } from './stock-changed-fast-path.js';

/** What class-validator says of a record, as parseEvent asks it. */
const dtoAccepts = (plain: Record<string, unknown>): boolean =>
  validateSync(plainToInstance(StockChangedData, plain) as object, { forbidUnknownValues: true }).length === 0;

const identifier = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const time = fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), noInvalidDate: true });

const day = fc
  .date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const receipts = fc.uniqueArray(
  fc.record({ receiptId: identifier, quantity: fc.integer({ min: 1, max: 1_000_000_000 }), expectedAt: day }),
  { minLength: 1, maxLength: 20, selector: (r) => r.receiptId },
);

/** Records as owners write them: with `safetyStock` and `incoming`, or without (an owner from before they existed). */
const valid = fc.record(
  {
    warehouseId: identifier,
    sku: identifier,
    region: fc.constantFrom('us-east', 'eu-west', 'ap-south', 'x1'),
    shard: fc.integer({ min: 0, max: 1023 }),
    onHand: fc.integer({ min: 0, max: 1_000_000_000 }),
    reserved: fc.integer({ min: 0, max: 1_000_000_000 }),
    safetyStock: fc.integer({ min: 0, max: 1_000_000_000 }),
    incoming: receipts,
    backordered: fc.integer({ min: 0, max: 1_000_000_000 }),
    version: fc.maxSafeNat().map((n) => Math.max(1, n)),
    updatedAt: time.map((d) => d.toISOString()),
    cause: fc.record({
      kind: fc.constantFrom('set', 'adjustment', 'hold', 'commit', 'release', 'transfer-out', 'transfer-in', 'transfer-return'),
      delta: fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
      reason: fc.stringMatching(/^[a-z-]{1,32}$/),
      movementId: fc.uuid({ version: 4 }),
      actor: fc.string({ minLength: 1, maxLength: 255, unit: 'grapheme-ascii' }),
    }),
  },
  {
    requiredKeys: ['warehouseId', 'sku', 'region', 'shard', 'onHand', 'reserved', 'version', 'updatedAt', 'cause'],
  },
);

/** Values a field may be replaced with: near misses of every check, and anything JSON can say. */
const oddValue = fc.oneof(
  fc.constantFrom(
    null,
    '',
    -1,
    0,
    1.5,
    1e21,
    Number.MAX_SAFE_INTEGER + 1,
    1_000_000_001,
    1024,
    '1',
    true,
    [],
    {},
    'US-EAST',
    'a b',
    '-x',
    '2026-02-30T10:00:00.000Z',
    '2026-12-01T24:00:00.000Z',
    '2026-12-01T10:00:00Z',
    '2026-12-01t10:00:00.000z',
    '1969-12-31T23:59:59.999Z',
    '+010000-01-01T00:00:00.000Z',
    '00000000-0000-0000-0000-000000000000',
    'A0A0A0A0-0000-4000-8000-000000000000',
    'tab\there',
    '\u0000',
    '\uFE0F',
    'é',
    'x'.repeat(256),
    'TRANSFER-out',
    'unknown',
    '2026-02-30',
    '2026-13-01',
    '2026-12-1',
    '2026-12-01T00:00:00.000Z',
    [
      { receiptId: 'po-1', quantity: 1, expectedAt: '2026-12-24' },
      { receiptId: 'po-1', quantity: 2, expectedAt: '2026-12-25' },
    ],
    Array.from({ length: 21 }, (_, i) => ({ receiptId: `po-${i}`, quantity: 1, expectedAt: '2026-12-24' })),
  ),
  fc.jsonValue(),
);

const FIELDS = [
  'warehouseId',
  'sku',
  'region',
  'shard',
  'onHand',
  'reserved',
  'safetyStock',
  'incoming',
  'version',
  'updatedAt',
  'cause',
] as const;
const CAUSE_FIELDS = ['kind', 'delta', 'reason', 'movementId', 'actor'] as const;
const RECEIPT_FIELDS = ['receiptId', 'quantity', 'expectedAt'] as const;

/**
 * A valid record with one field (top-level, of its cause or of its first incoming receipt)
 * replaced, removed, or an extra one added.
 */
const mutated = fc
  .tuple(
    valid,
    fc.constantFrom(...FIELDS, ...CAUSE_FIELDS.map((f) => `cause.${f}`), ...RECEIPT_FIELDS.map((f) => `incoming.${f}`), 'extra'),
    fc.oneof(oddValue, fc.constant(undefined)),
  )
  .map(([record, field, value]) => {
    const receipts = (record.incoming ?? [{ receiptId: 'po-1', quantity: 1, expectedAt: '2026-12-24' }]).map((r) => ({ ...r }));
    const copy: Record<string, unknown> = { ...record, cause: { ...record.cause }, incoming: receipts };
    const [target, key] = field.startsWith('cause.')
      ? [copy.cause as Record<string, unknown>, field.slice(6)]
      : field.startsWith('incoming.')
        ? [receipts[0] as Record<string, unknown>, field.slice(9)]
        : [copy, field];
    if (value === undefined) delete target[key];
    else target[key] = value;
    return copy;
  });

describe('the fast path of stock.changed', () => {
  it('accepts what owners write, and makes what plainToInstance makes', () => {
    fc.assert(
      fc.property(valid, (record) => {
        const fast = fastStockChangedData(record);
        expect(fast).toBeInstanceOf(StockChangedData);
        expect(instanceToPlain(fast)).toEqual(instanceToPlain(plainToInstance(StockChangedData, record)));
        expect(dtoAccepts(record)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('accepts nothing class-validator refuses (whatever one field becomes), so the DTO stays the authority', () => {
    let refusedByBoth = 0;
    fc.assert(
      fc.property(mutated, (record) => {
        const fast = fastStockChangedData(record);
        if (fast) expect(dtoAccepts(record)).toBe(true);
        else if (!dtoAccepts(record)) refusedByBoth++;
      }),
      { numRuns: 10_000 },
    );
    // The mutations do reach refusals (a generator that never broke a record would prove nothing).
    expect(refusedByBoth).toBeGreaterThan(5_000);
  });
});
