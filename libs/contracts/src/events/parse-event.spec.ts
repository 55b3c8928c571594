import { describe, expect, it } from '@jest/globals';
import { newEvent, toKafkaRecord } from './cloud-event.js';
import { EVENT_TYPES, type StockChangedData } from './event-types.js';
import { parseEvent, PoisonEventError } from './parse-event.js';

const data: StockChangedData = {
  warehouseId: 'fra-1',
  sku: 'SKU-1',
  region: 'eu-west',
  shard: 4,
  onHand: 10,
  reserved: 2,
  version: 3,
  updatedAt: '2026-11-23T10:00:00.000Z',
  cause: { kind: 'adjustment', delta: 5, reason: 'received', movementId: '3c9fb665-774f-44d2-bb5d-a532273c0ba5', actor: 'wms' },
};
const event = newEvent({
  source: 'eu-west',
  type: EVENT_TYPES.stockChanged,
  time: data.updatedAt,
  subject: 'warehouses/fra-1/stock/SKU-1',
  correlationid: 'req-1',
  data,
});
const record = toKafkaRecord(event, 'SKU-1');
const reason = (r: { headers: Record<string, string>; value: string | null }): string => {
  try {
    parseEvent(r, [EVENT_TYPES.stockChanged]);
  } catch (e) {
    if (e instanceof PoisonEventError) return e.reason;
    throw e;
  }
  throw new Error('parsed');
};

describe('parseEvent', () => {
  it('round-trips an event through its Kafka record (binary content mode)', () => {
    expect(record.key).toBe('SKU-1');
    expect(record.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_type: 'io.stockmesh.stock.changed.v1',
      ce_source: 'eu-west',
      'content-type': 'application/json',
    });
    const parsed = parseEvent({ headers: record.headers, value: Buffer.from(record.value) }, [EVENT_TYPES.stockChanged]);
    expect(parsed).toMatchObject({ id: event.id, source: 'eu-west', type: EVENT_TYPES.stockChanged, correlationid: 'req-1', data });
  });

  it('accepts the largest safe version', () => {
    const value = JSON.stringify({ ...data, version: Number.MAX_SAFE_INTEGER });
    expect(parseEvent({ headers: record.headers, value }, [EVENT_TYPES.stockChanged]).data.version).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('tolerates fields added by later minor versions', () => {
    const value = JSON.stringify({ ...data, lotNumber: 'L-7' });
    expect(parseEvent({ headers: record.headers, value }, [EVENT_TYPES.stockChanged]).data.onHand).toBe(10);
  });

  it.each([
    ['a missing spec version', { headers: { ...record.headers, ce_specversion: '' }, value: record.value }, /ce_specversion/],
    ['an unknown type', { headers: { ...record.headers, ce_type: 'io.evil.v1' }, value: record.value }, /unknown event type/],
    [
      'a type from another topic',
      { headers: { ...record.headers, ce_type: EVENT_TYPES.regionHeartbeat }, value: record.value },
      /does not belong/,
    ],
    ['a source that is not a region', { headers: { ...record.headers, ce_source: 'http://x' }, value: record.value }, /not a region/],
    ['a bad time', { headers: { ...record.headers, ce_time: 'yesterday' }, value: record.value }, /not a time/],
    ['no value', { headers: record.headers, value: null }, /no value/],
    ['a value that is not JSON', { headers: record.headers, value: '{oops' }, /not JSON/],
    ['a JSON array', { headers: record.headers, value: '[1]' }, /not a JSON object/],
    ['a negative quantity', { headers: record.headers, value: JSON.stringify({ ...data, onHand: -1 }) }, /onHand/],
    [
      'a version above 2^53 − 1 (1e21 is no bigint literal)',
      { headers: record.headers, value: JSON.stringify({ ...data, version: 1e21 }) },
      /version fails max/,
    ],
    [
      'a version just above 2^53 − 1',
      { headers: record.headers, value: JSON.stringify({ ...data, version: Number.MAX_SAFE_INTEGER + 2 }) },
      /version fails max/,
    ],
    ['a quantity above MAX_QUANTITY', { headers: record.headers, value: JSON.stringify({ ...data, onHand: 1_000_000_001 }) }, /onHand/],
    ['a missing version', { headers: record.headers, value: JSON.stringify({ ...data, version: undefined }) }, /version/],
    ['a time in year 0', { headers: record.headers, value: JSON.stringify({ ...data, updatedAt: '0000-01-01T00:00:00Z' }) }, /updatedAt/],
    ['a header time in year 0', { headers: { ...record.headers, ce_time: '0000-01-01T00:00:00Z' }, value: record.value }, /ce_time/],
    [
      'an actor with a NUL',
      { headers: record.headers, value: JSON.stringify({ ...data, cause: { ...data.cause, actor: 'a\u0000' } }) },
      /actor/,
    ],
    ['a fractional version', { headers: record.headers, value: JSON.stringify({ ...data, version: 1.5 }) }, /version/],
    ['a missing cause', { headers: record.headers, value: JSON.stringify({ ...data, cause: undefined }) }, /cause/],
    ['an injected SKU', { headers: record.headers, value: JSON.stringify({ ...data, sku: "x'; DROP TABLE stock;--" }) }, /sku/],
  ])('refuses %s as poison', (_, r, expected) => {
    expect(reason(r)).toMatch(expected);
  });
});
