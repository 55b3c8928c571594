import { describe, expect, it } from '@jest/globals';
import {
  EVENT_TYPES,
  parseEvent,
  PoisonEventError,
  TOPICS,
  type CloudEvent,
  type TransferData,
  type TransferDispatchedData,
  type TransferReceivedData,
} from '@stockmesh/contracts';
import { isDestination, isSource, transferDispatchedEntry, transferReceivedEntry } from './transfer-events.js';

const transfer: TransferData = {
  transferId: 'us-east.0f8fad5b-d9cb-469f-a165-70867728950e',
  sku: 'SKU-1',
  shard: 4,
  fromWarehouseId: 'nyc-1',
  fromRegion: 'us-east',
  toWarehouseId: 'fra-1',
  toRegion: 'eu-west',
  quantity: 12,
};
const at = new Date('2026-11-23T15:09:53.216Z');
const types = [EVENT_TYPES.transferDispatched, EVENT_TYPES.transferReceived];
type Entry = ReturnType<typeof transferDispatchedEntry>;
const parse = (entry: Entry): CloudEvent<string, TransferDispatchedData & TransferReceivedData> =>
  parseEvent({ headers: entry.record.headers, value: entry.record.value }, types) as CloudEvent<
    string,
    TransferDispatchedData & TransferReceivedData
  >;

describe('transfer events', () => {
  it('puts a dispatched transfer on the transfers topic, partition = shard, keyed by transfer id, sent by the source', () => {
    const entry = transferDispatchedEntry(transfer, at, 'req-1');
    expect(entry).toMatchObject({ topic: TOPICS.transfers, partition: 4, record: { key: transfer.transferId } });
    expect(entry.compact).toBeUndefined();
    const event = parseEvent({ headers: entry.record.headers, value: entry.record.value }, types);
    expect(event).toMatchObject({
      type: 'io.stockmesh.transfer.dispatched.v1',
      source: 'us-east',
      subject: `transfers/${transfer.transferId}`,
      correlationid: 'req-1',
      time: at.toISOString(),
      data: { ...transfer, dispatchedAt: at.toISOString() },
    });
  });

  it('sends the receipt from the destination, with its outcome', () => {
    const entry = transferReceivedEntry(transfer, 'refused', at, null);
    expect(entry).toMatchObject({ topic: TOPICS.transfers, partition: 4, record: { key: transfer.transferId } });
    expect(entry.record.headers.ce_correlationid).toBeUndefined();
    expect(parseEvent({ headers: entry.record.headers, value: entry.record.value }, types)).toMatchObject({
      type: 'io.stockmesh.transfer.received.v1',
      source: 'eu-west',
      data: { ...transfer, outcome: 'refused', receivedAt: at.toISOString() },
    });
  });

  it.each([
    ['a zero quantity', { quantity: 0 }, /quantity/],
    ['a fractional quantity', { quantity: 1.5 }, /quantity/],
    ['a transfer id without its region', { transferId: '0f8fad5b-d9cb-469f-a165-70867728950e' }, /transferId/],
    ['an injected warehouse', { toWarehouseId: "x'; DROP TABLE stock;--" }, /toWarehouseId/],
  ])('refuses %s as poison', (_, change, expected) => {
    const entry = transferDispatchedEntry({ ...transfer, ...change } as TransferData, at, null);
    expect(() => parse(entry)).toThrow(expected);
  });

  it('addresses a dispatched transfer to the destination only', () => {
    const event = parse(transferDispatchedEntry(transfer, at, null));
    expect(isDestination(event, 'eu-west')).toBe(true);
    expect(isDestination(event, 'us-east')).toBe(false);
    expect(isDestination(event, 'ap-south')).toBe(false);
  });

  it('addresses a received transfer to the source only', () => {
    const event = parse(transferReceivedEntry(transfer, 'received', at, null));
    expect(isSource(event, 'us-east')).toBe(true);
    expect(isSource(event, 'eu-west')).toBe(false);
    expect(isSource(event, 'ap-south')).toBe(false);
  });

  it('refuses a transfer event sent by a region that is not its party', () => {
    const forged = { ...parse(transferDispatchedEntry(transfer, at, null)), source: 'ap-south' };
    expect(() => isDestination(forged, 'eu-west')).toThrow(PoisonEventError);
    const misreceived = { ...parse(transferReceivedEntry(transfer, 'received', at, null)), source: 'us-east' };
    expect(() => isSource(misreceived, 'us-east')).toThrow(PoisonEventError);
  });
});
