import { describe, expect, it } from '@jest/globals';
import { newEvent, toKafkaRecord } from './cloud-event.js';
import { EVENT_TYPES, type StockDigestData } from './event-types.js';
import { parseEvent, PoisonEventError } from './parse-event.js';

const data: StockDigestData = {
  region: 'eu-west',
  shard: 4,
  bucketCount: 64,
  fromOffset: '1530',
  toOffset: '1532',
  rows: 3,
  buckets: [
    { bucket: 17, rows: 2, hash: '9f1c04d2a8e7b3c5' },
    { bucket: 62, rows: 1, hash: '03be55a1c96f2d80' },
  ],
  unsettled: [5],
  computedAt: '2026-11-23T15:10:40.002Z',
};
const record = toKafkaRecord(
  newEvent({ source: 'eu-west', type: EVENT_TYPES.stockDigest, time: data.computedAt, subject: 'regions/eu-west/shards/4', data }),
  'eu-west/4',
);
const reason = (value: unknown): string => {
  try {
    parseEvent({ headers: record.headers, value: JSON.stringify(value) }, [EVENT_TYPES.stockDigest]);
  } catch (e) {
    if (e instanceof PoisonEventError) return e.reason;
    throw e;
  }
  throw new Error('parsed');
};

describe('io.stockmesh.stock.digest.v1', () => {
  it('round-trips through its Kafka record', () => {
    expect(parseEvent({ headers: record.headers, value: record.value }, [EVENT_TYPES.stockDigest]).data).toEqual(data);
  });

  it('is not accepted on a topic of other events', () => {
    expect(() => parseEvent({ headers: record.headers, value: record.value }, [EVENT_TYPES.stockChanged])).toThrow(PoisonEventError);
  });

  it.each([
    ['a bucket out of range', { ...data, buckets: [{ bucket: 64, rows: 1, hash: '03be55a1c96f2d80' }] }, /bucket/],
    ['an empty bucket', { ...data, buckets: [{ bucket: 3, rows: 0, hash: '03be55a1c96f2d80' }] }, /rows/],
    ['a hash that is not 16 hex digits', { ...data, buckets: [{ bucket: 3, rows: 1, hash: 'XYZ' }] }, /hash/],
    ['another bucket count', { ...data, bucketCount: 128 }, /bucketCount/],
    ['an offset that is not decimal', { ...data, toOffset: '-1' }, /toOffset/],
    ['an unsettled bucket out of range', { ...data, unsettled: [70] }, /unsettled/],
    ['a missing fromOffset', { ...data, fromOffset: undefined }, /fromOffset/],
  ])('refuses %s as poison', (_, value, expected) => {
    expect(reason(value)).toMatch(expected);
  });
});
