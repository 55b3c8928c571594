import { describe, expect, it } from '@jest/globals';
import { Saga } from './reservation-saga.js';

const planned = {
  id: 'us-east.r1',
  idempotencyKey: 'k',
  fingerprint: 'f',
  createdBy: 'key-1',
  lines: [{ sku: 'A', quantity: 3 }],
  ttlSeconds: 900,
  reference: null,
  channel: null,
  allowSplit: true,
  allowBackorder: false,
};
const allocation = (allocationNo: number, region: string) => ({
  reservationId: 'us-east.r1',
  allocationNo,
  lineNo: 0,
  sku: 'A',
  warehouseId: `${region}-1`,
  region,
  quantity: 1,
});

describe('Saga', () => {
  it('keeps the owners’ answers for the decision, and what is already written out of it', () => {
    const saga = new Saga(planned, 'k', true);
    for (const [no, region] of [
      [1, 'us-east'],
      [2, 'eu-west'],
      [3, 'ap-south'],
      [4, 'us-east'],
    ] as const)
      saga.placing(allocation(no, region));
    saga.settle(1, 'refused');
    saga.settle(2, 'released');
    saga.settle(4, 'held');
    // 3 never answered: it stays an intent, which the decision gives to the finisher to release.
    expect([...saga.settled()]).toEqual([
      [1, 'refused'],
      [4, 'held'],
    ]);
    expect(saga.allocations().map((a) => [a.allocationNo, a.state, a.commitQuantity])).toEqual([
      [1, 'refused', null],
      [2, 'released', null],
      [3, 'intent', null],
      [4, 'held', null],
    ]);
  });
});
