import { describe, expect, it } from '@jest/globals';
import { MAX_INCOMING_RECEIPTS, MAX_QUANTITY } from '@stockmesh/contracts';
import { incomingByDay } from '../availability.service.js';
import { StockException } from '../stock.exception.js';
import { cancelIncoming, expectIncoming, planBackorderFill, receiveIncoming, type LevelWithIncoming } from './incoming-receipts.js';

const row = (incoming: LevelWithIncoming['incoming'] = [], onHand = 10): LevelWithIncoming => ({
  onHand,
  reserved: 4,
  safetyStock: 1,
  backordered: 0,
  version: 7,
  incoming,
});
const po = (receiptId: string, quantity: number, expectedAt: string) => ({ receiptId, quantity, expectedAt });
const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof StockException ? error.code : 'not a StockException';
  }
};

describe('incoming receipts of a row', () => {
  it('announces a receipt, kept by expected day then id, without moving on-hand', () => {
    const first = expectIncoming(row(), po('po-2', 5, '2026-12-24'));
    const second = expectIncoming({ ...first.next, incoming: first.incoming }, po('po-1', 3, '2026-12-24'));
    const third = expectIncoming({ ...second.next, incoming: second.incoming }, po('asn-9', 8, '2026-12-20'));
    expect(third.incoming).toEqual([po('asn-9', 8, '2026-12-20'), po('po-1', 3, '2026-12-24'), po('po-2', 5, '2026-12-24')]);
    expect(third.next).toEqual({ onHand: 10, reserved: 4, safetyStock: 1, backordered: 0, version: 10 });
    expect(third.delta).toBe(0);
  });

  it('changes an open receipt in place when announced again', () => {
    const changed = expectIncoming(row([po('po-1', 3, '2026-12-24'), po('po-2', 5, '2026-12-25')]), po('po-1', 9, '2026-12-30'));
    expect(changed.incoming).toEqual([po('po-2', 5, '2026-12-25'), po('po-1', 9, '2026-12-30')]);
  });

  it('refuses a new receipt past the limit, but still changes an open one there', () => {
    const full = row(Array.from({ length: MAX_INCOMING_RECEIPTS }, (_, i) => po(`po-${i}`, 1, '2026-12-24')));
    expect(codeOf(() => expectIncoming(full, po('po-new', 1, '2026-12-24')))).toBe('incoming-limit-exceeded');
    expect(expectIncoming(full, po('po-3', 2, '2026-12-31')).incoming).toHaveLength(MAX_INCOMING_RECEIPTS);
  });

  it('receives units: on hand, and the receipt expects fewer until it closes', () => {
    const open = row([po('po-1', 10, '2026-12-24'), po('po-2', 5, '2026-12-25')]);
    const part = receiveIncoming(open, 'po-1', 4, false);
    expect(part.next).toEqual({ onHand: 14, reserved: 4, safetyStock: 1, backordered: 0, version: 8 });
    expect(part.delta).toBe(4);
    expect(part.incoming).toEqual([po('po-1', 6, '2026-12-24'), po('po-2', 5, '2026-12-25')]);
    // The rest, and more (an over-delivery): all on hand, the receipt closed.
    const rest = receiveIncoming({ ...part.next, incoming: part.incoming }, 'po-1', 7, false);
    expect(rest.next.onHand).toBe(21);
    expect(rest.incoming).toEqual([po('po-2', 5, '2026-12-25')]);
  });

  it('closes a receipt short when asked', () => {
    const short = receiveIncoming(row([po('po-1', 10, '2026-12-24')]), 'po-1', 3, true);
    expect(short.next.onHand).toBe(13);
    expect(short.incoming).toEqual([]);
  });

  it('refuses a receipt that is not open, and on-hand past the most a row holds', () => {
    expect(codeOf(() => receiveIncoming(row(), 'po-1', 1, false))).toBe('incoming-not-found');
    expect(codeOf(() => cancelIncoming(row([po('po-2', 1, '2026-12-24')]), 'po-1'))).toBe('incoming-not-found');
    const nearlyFull = row([po('po-1', 10, '2026-12-24')], MAX_QUANTITY - 2);
    expect(codeOf(() => receiveIncoming(nearlyFull, 'po-1', 3, false))).toBe('quantity-limit-exceeded');
  });

  it('cancels an open receipt, on-hand unchanged', () => {
    const cancelled = cancelIncoming(row([po('po-1', 10, '2026-12-24'), po('po-2', 5, '2026-12-25')]), 'po-1');
    expect(cancelled.incoming).toEqual([po('po-2', 5, '2026-12-25')]);
    expect(cancelled.next).toEqual({ onHand: 10, reserved: 4, safetyStock: 1, backordered: 0, version: 8 });
    expect(cancelled.delta).toBe(0);
  });
});

describe('promises made to backorders', () => {
  // 10 on hand, 4 reserved; receipts expect 15, of which 9 are promised to backorders.
  const promised = (): LevelWithIncoming => ({
    ...row([po('po-1', 10, '2026-12-24'), po('po-2', 5, '2027-01-05')]),
    backordered: 9,
  });

  it('refuses a cut below what is promised: a cancel, a smaller receipt, a receipt closed short', () => {
    expect(codeOf(() => cancelIncoming(promised(), 'po-1'))).toBe('incoming-promised');
    expect(codeOf(() => expectIncoming(promised(), po('po-1', 3, '2026-12-24')))).toBe('incoming-promised');
    // 2 received fill 2 backorders (7 stay promised); closing po-1 leaves 5 expected.
    expect(codeOf(() => receiveIncoming(promised(), 'po-1', 2, true))).toBe('incoming-promised');
    // What stays at or above the promises goes through; so does anything that does not cut.
    expect(cancelIncoming(promised(), 'po-2').incoming).toEqual([po('po-1', 10, '2026-12-24')]);
    expect(expectIncoming(promised(), po('po-1', 4, '2026-12-24')).incoming).toHaveLength(2);
    expect(receiveIncoming(promised(), 'po-1', 5, true).incoming).toEqual([po('po-2', 5, '2027-01-05')]);
    expect(expectIncoming(promised(), po('po-3', 1, '2026-12-30')).incoming).toHaveLength(3);
  });

  it('fills backorders with units received, oldest hold first: held ones become reserved, sold ones leave on-hand', () => {
    const level = { onHand: 16, reserved: 4, safetyStock: 1, backordered: 9, version: 8 };
    const holds = [
      { id: 'h1', status: 'committed' as const, backordered: 3 },
      { id: 'h2', status: 'released' as const, backordered: 2 },
      { id: 'h3', status: 'held' as const, backordered: 4 },
      { id: 'h4', status: 'held' as const, backordered: 2 },
    ];
    expect(planBackorderFill(level, holds, 6)).toEqual({
      next: { onHand: 13, reserved: 7, safetyStock: 1, backordered: 3, version: 9 },
      holds: [
        { id: 'h1', backordered: 0 },
        { id: 'h3', backordered: 1 },
      ],
      shipped: 3,
      reserved: 3,
    });
    // More received than promised: every backorder filled, the rest stays available.
    expect(planBackorderFill(level, holds, 50)).toMatchObject({
      next: { onHand: 13, reserved: 10, backordered: 0 },
      shipped: 3,
      reserved: 6,
    });
    expect(planBackorderFill(level, [], 6)).toBeUndefined();
  });
});

describe('incoming stock by day in availability', () => {
  it('sums the warehouses by day, earliest first, with what can be promised by then', () => {
    const warehouses = [
      { incoming: [po('po-1', 10, '2026-12-24'), po('po-2', 5, '2027-01-05')], backordered: 0 },
      { incoming: [po('asn-1', 3, '2026-12-20'), po('po-7', 2, '2026-12-24')], backordered: 0 },
      { incoming: [], backordered: 0 },
    ];
    expect(incomingByDay(warehouses, 6)).toEqual([
      { expectedAt: '2026-12-20', quantity: 3, promisable: 9 },
      { expectedAt: '2026-12-24', quantity: 12, promisable: 21 },
      { expectedAt: '2027-01-05', quantity: 5, promisable: 26 },
    ]);
    expect(incomingByDay([{ incoming: [], backordered: 0 }], 6)).toEqual([]);
  });

  it('takes backorders out of each warehouse’s earliest receipts', () => {
    const warehouses = [
      // 12 promised already: all of the first receipt, 2 of the second.
      { incoming: [po('po-1', 10, '2026-12-24'), po('po-2', 5, '2027-01-05')], backordered: 12 },
      { incoming: [po('asn-1', 3, '2026-12-20')], backordered: 1 },
    ];
    expect(incomingByDay(warehouses, 0)).toEqual([
      { expectedAt: '2026-12-20', quantity: 3, promisable: 2 },
      { expectedAt: '2026-12-24', quantity: 10, promisable: 2 },
      { expectedAt: '2027-01-05', quantity: 5, promisable: 5 },
    ]);
  });
});
