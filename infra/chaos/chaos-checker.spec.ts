import { describe, expect, it } from '@jest/globals';
import { checkAll, unsettled, type CheckName } from './chaos-checker.js';
import type { ClusterSnapshot, HistoryRecord, LedgerEntry, RequestRecord } from './chaos-history.js';

// A small clean world: two regions a and b, warehouse wa in a and wb in b, one SKU S.
// wa/S is counted to 10, wb/S adjusted by +5; reservation a.r1 holds 2 of wa/S and commits;
// transfer a.t1 moves 3 from wa to wb and completes.
const T = 1_000_000;

function request(
  seq: number,
  op: RequestRecord['op'],
  path: string,
  body: unknown,
  status: number,
  answer: unknown,
  key?: string,
): RequestRecord {
  return {
    type: 'request',
    seq,
    client: 'c1',
    op,
    region: 'a',
    method: 'POST',
    path,
    idempotencyKey: key,
    body,
    sentAt: T + seq,
    answeredAt: T + seq,
    status,
    answer,
  };
}

function cleanHistory(): HistoryRecord[] {
  return [
    request(1, 'count', '/v1/warehouses/wa/stock/S', { onHand: 10 }, 200, {}, 'k1'),
    request(2, 'adjust', '/v1/warehouses/wb/stock/S/adjustments', { delta: 5, reason: 'received' }, 201, {}, 'k2'),
    request(3, 'reserve', '/v1/reservations', { lines: [{ sku: 'S', quantity: 2 }] }, 201, { id: 'a.r1', status: 'held' }, 'k3'),
    request(4, 'commit', '/v1/reservations/a.r1/commit', undefined, 200, { id: 'a.r1', status: 'committed' }),
    request(
      5,
      'transfer',
      '/v1/transfers',
      { sku: 'S', fromWarehouseId: 'wa', toWarehouseId: 'wb', quantity: 3 },
      201,
      { id: 'a.t1' },
      'k4',
    ),
  ];
}

function entry(
  warehouseId: string,
  version: number,
  kind: string,
  delta: number,
  onHandAfter: number,
  reservedAfter: number,
  key: string | null = null,
): LedgerEntry {
  const region = warehouseId === 'wa' ? 'a' : 'b';
  return {
    region,
    database: `${region}/0`,
    seq: `${version}`,
    warehouseId,
    sku: 'S',
    kind,
    delta,
    onHandAfter,
    reservedAfter,
    version,
    actor: 'x',
    idempotencyKey: key,
  };
}

function cleanSnapshot(): ClusterSnapshot {
  return {
    takenAt: T + 100,
    regions: ['a', 'b'],
    stock: [
      { region: 'a', warehouseId: 'wa', sku: 'S', onHand: 5, reserved: 0, version: 4 },
      { region: 'b', warehouseId: 'wb', sku: 'S', onHand: 8, reserved: 0, version: 2 },
    ],
    replicas: [
      { heldBy: 'b', region: 'a', warehouseId: 'wa', sku: 'S', onHand: 5, reserved: 0, version: 4 },
      { heldBy: 'a', region: 'b', warehouseId: 'wb', sku: 'S', onHand: 8, reserved: 0, version: 2 },
    ],
    ledger: [
      entry('wa', 1, 'set', 10, 10, 0, 'k1'),
      entry('wa', 2, 'hold', 0, 10, 2),
      entry('wa', 3, 'commit', -2, 8, 0),
      entry('wa', 4, 'transfer-out', -3, 5, 0, 'k4'),
      entry('wb', 1, 'adjustment', 5, 5, 0, 'k2'),
      entry('wb', 2, 'transfer-in', 3, 8, 0),
    ],
    holds: [{ ownerRegion: 'a', id: 'a.r1.1', reservationId: 'a.r1', warehouseId: 'wa', sku: 'S', quantity: 2, status: 'committed' }],
    reservations: [
      {
        region: 'a',
        id: 'a.r1',
        status: 'committed',
        expiresAt: T + 900_000,
        allocations: [{ allocationNo: 1, sku: 'S', warehouseId: 'wa', region: 'a', quantity: 2, state: 'committed', target: 'commit' }],
      },
    ],
    transfers: [
      {
        id: 'a.t1',
        sku: 'S',
        fromWarehouseId: 'wa',
        fromRegion: 'a',
        toWarehouseId: 'wb',
        toRegion: 'b',
        quantity: 3,
        status: 'completed',
      },
    ],
    receipts: [{ region: 'b', transferId: 'a.t1', quantity: 3, outcome: 'received' }],
    outboxPending: { a: 0, b: 0 },
  };
}

/** The checks that reported anything, with their messages. */
function found(history: HistoryRecord[], snapshot: ClusterSnapshot): Partial<Record<CheckName, string[]>> {
  const result: Partial<Record<CheckName, string[]>> = {};
  for (const [name, violations] of checkAll({ history, snapshot }))
    if (violations.length > 0) result[name] = violations.map((v) => v.message);
  return result;
}

describe('chaos checker', () => {
  it('finds nothing wrong with a clean history and snapshot', () => {
    expect(found(cleanHistory(), cleanSnapshot())).toEqual({});
    expect(unsettled(cleanSnapshot())).toEqual([]);
  });

  it('reports a ledger entry that left reserved above onHand', () => {
    const s = cleanSnapshot();
    const ledger = s.ledger.map((e) => (e.warehouseId === 'wa' && e.version === 2 ? { ...e, reservedAfter: 11 } : e));
    expect(found(cleanHistory(), { ...s, ledger })['no-oversell']).toEqual([
      expect.stringContaining('wa/S at a: ledger entry 2 (hold, version 2) left onHand 10, reserved 11'),
    ]);
  });

  it('reports a row changed without its ledger entry', () => {
    const s = cleanSnapshot();
    const stock = s.stock.map((r) => (r.warehouseId === 'wb' ? { ...r, onHand: 9, version: 3 } : r));
    expect(found(cleanHistory(), { ...s, stock })['ledger-continuity']).toEqual([
      expect.stringContaining('differs from its last ledger entry'),
    ]);
    const ledger = s.ledger.filter((e) => !(e.warehouseId === 'wa' && e.version === 3));
    expect(found(cleanHistory(), { ...s, ledger })['ledger-continuity']).toEqual(
      expect.arrayContaining([expect.stringContaining('has version 4, expected 3')]),
    );
  });

  it('reports reserved units that no held hold accounts for', () => {
    const s = cleanSnapshot();
    const stock = s.stock.map((r) => (r.warehouseId === 'wb' ? { ...r, reserved: 1 } : r));
    expect(found(cleanHistory(), { ...s, stock })['reserved-matches-holds']).toEqual([
      expect.stringContaining('reserved 1, but its held holds add up to 0'),
    ]);
  });

  it('reports a stock change no client asked for, a key applied twice, and units lost in transit', () => {
    const s = cleanSnapshot();
    const phantom = [
      ...s.ledger.filter((e) => e.warehouseId !== 'wb'),
      entry('wb', 1, 'adjustment', 5, 5, 0, 'k-unknown'),
      entry('wb', 2, 'transfer-in', 3, 8, 0),
    ];
    expect(found(cleanHistory(), { ...s, ledger: phantom }).conservation).toEqual([
      expect.stringContaining('matches no request in the history'),
    ]);

    const twice = [
      ...s.ledger.filter((e) => e.warehouseId !== 'wb'),
      entry('wb', 1, 'adjustment', 5, 5, 0, 'k2'),
      entry('wb', 2, 'adjustment', 5, 10, 0, 'k2'),
      entry('wb', 3, 'transfer-in', 3, 13, 0),
    ];
    const stock = s.stock.map((r) => (r.warehouseId === 'wb' ? { ...r, onHand: 13, version: 3 } : r));
    // The sums still agree (the ledger has both entries): the repeated key is what shows it.
    expect(found(cleanHistory(), { ...s, ledger: twice, stock }).conservation).toEqual([
      'Idempotency-Key k2 was applied 2 times (wb/S entry 1, wb/S entry 2)',
    ]);

    // The transfer left wa, never reached wb, and is not pending: three units vanished.
    const lost = s.ledger.filter((e) => e.kind !== 'transfer-in');
    const stockLost = s.stock.map((r) => (r.warehouseId === 'wb' ? { ...r, onHand: 5, version: 1 } : r));
    const replicas = s.replicas.map((r) => (r.warehouseId === 'wb' ? { ...r, onHand: 5, version: 1 } : r));
    expect(found(cleanHistory(), { ...s, ledger: lost, stock: stockLost, replicas, receipts: [] }).conservation).toEqual([
      'S: onHand 10 + in transit 0 = 10, but counts and adjustments (15) plus commits (-2) = 13',
    ]);
    // Pending without a receipt, the same units are in transit: conserved (and reported as not settled).
    const transfers = s.transfers.map((t) => ({ ...t, status: 'pending' }));
    const inTransit = found(cleanHistory(), { ...s, ledger: lost, stock: stockLost, replicas, receipts: [], transfers });
    expect(inTransit.conservation).toBeUndefined();
    expect(inTransit['transfers-settled']).toEqual(['transfer a.t1: still pending after the cluster settled (receipt: none)']);
  });

  it('reports an acknowledged write that is not there', () => {
    const history = [
      ...cleanHistory(),
      request(6, 'adjust', '/v1/warehouses/wb/stock/S/adjustments', { delta: 1, reason: 'found' }, 201, {}, 'k9'),
    ];
    expect(found(history, cleanSnapshot())['acknowledged-writes']).toEqual([expect.stringContaining('no ledger entry carries key k9')]);
    // Without an answer, the same request may or may not have happened: not a violation by itself.
    const unanswered = [
      ...cleanHistory(),
      {
        ...request(6, 'adjust', '/v1/warehouses/wb/stock/S/adjustments', { delta: 1, reason: 'found' }, 0, undefined, 'k9'),
        status: undefined,
      },
    ];
    expect(found(unanswered, cleanSnapshot())).toEqual({});
  });

  it('reports a commit answered committed that did not stick', () => {
    const s = cleanSnapshot();
    const holds = s.holds.map((h) => ({ ...h, status: 'released' as const }));
    const result = found(cleanHistory(), { ...s, holds });
    expect(result['acknowledged-writes']).toEqual([expect.stringContaining('answered committed but holds a.r1.1 (released)')]);
    expect(result['no-orphan-holds']).toEqual([expect.stringContaining('allocation a.r1.1 is committed, but its hold at a is released')]);
  });

  it('reports reservations left pending, held past expiry, or commit-failed', () => {
    const s = cleanSnapshot();
    const pending = s.reservations.map((r) => ({ ...r, id: 'a.r2', status: 'pending', expiresAt: null, allocations: [] }));
    expect(found(cleanHistory(), { ...s, reservations: [...s.reservations, ...pending] })['reservations-final']).toEqual([
      'reservation a.r2 (pending): still pending after the cluster settled',
    ]);
    const lapsed = s.reservations.map((r) => ({ ...r, id: 'a.r3', status: 'held', expiresAt: T, allocations: [] }));
    expect(found(cleanHistory(), { ...s, reservations: [...s.reservations, ...lapsed] })['reservations-final']).toEqual([
      expect.stringContaining('reservation a.r3 (held): expired at'),
    ]);
    const failed = s.reservations.map((r) => ({
      ...r,
      id: 'a.r4',
      status: 'commit-failed',
      allocations: [{ ...r.allocations[0], state: 'lost' }],
    }));
    expect(found(cleanHistory(), { ...s, reservations: [...s.reservations, ...failed] })['reservations-final']).toEqual([
      'reservation a.r4 (commit-failed): an owner lost a hold: a.r4.1 at a',
    ]);
  });

  it('reports a hold still held for a released reservation', () => {
    const s = cleanSnapshot();
    const holds = [
      ...s.holds,
      { ownerRegion: 'b', id: 'a.r5.1', reservationId: 'a.r5', warehouseId: 'wb', sku: 'S', quantity: 1, status: 'held' as const },
    ];
    const reservations = [
      ...s.reservations,
      {
        region: 'a',
        id: 'a.r5',
        status: 'released',
        expiresAt: T,
        allocations: [{ allocationNo: 1, sku: 'S', warehouseId: 'wb', region: 'b', quantity: 1, state: 'released', target: 'release' }],
      },
    ];
    const stock = s.stock.map((r) => (r.warehouseId === 'wb' ? { ...r, reserved: 1 } : r));
    const result = found(cleanHistory(), { ...s, holds, reservations, stock });
    expect(result['no-orphan-holds']).toEqual([
      'hold a.r5.1 (1 of wb/S) is held at b, but its reservation is released with the allocation released',
    ]);
  });

  it('reports a replica that differs from its owner, is missing, or has no owner', () => {
    const s = cleanSnapshot();
    const replicas = [
      { ...s.replicas[0], onHand: 6 },
      { heldBy: 'a', region: 'b', warehouseId: 'wz', sku: 'S', onHand: 1, reserved: 0, version: 1 },
    ];
    expect(found(cleanHistory(), { ...s, replicas })['replicas-match-owners']).toEqual([
      "a's replica of wb/S is missing; the owner b has onHand 8, reserved 0, v2",
      'a has a replica of wz/S (onHand 1, reserved 0, v1) that no owner has',
      "b's replica of wa/S is onHand 6, reserved 0, v4; the owner a has onHand 5, reserved 0, v4",
    ]);
  });

  it('quotes the history records that concern a violation', () => {
    const s = cleanSnapshot();
    const stock = s.stock.map((r) => (r.warehouseId === 'wb' ? { ...r, reserved: 1 } : r));
    const [violation] = checkAll({ history: cleanHistory(), snapshot: { ...s, stock } }).get('reserved-matches-holds')!;
    expect(violation.excerpt.map((r) => r.seq)).toEqual([2, 5]);
  });

  it('says what is still in flight', () => {
    const s = cleanSnapshot();
    expect(unsettled({ ...s, outboxPending: { a: 3, b: 0 }, transfers: s.transfers.map((t) => ({ ...t, status: 'pending' })) })).toEqual([
      'a: 3 events in its outboxes',
      '1 transfers pending (1 received)',
    ]);
  });
});
