import { describe, expect, it } from '@jest/globals';
import { COMMAND_TYPES } from '@stockmesh/contracts';
import { InvalidCommandError } from './command.js';
import { parseCommand, type CommandRecord } from './parse-command.js';

const headers = {
  ce_specversion: '1.0',
  ce_id: 'cmd-1',
  ce_source: 'wms-fra',
  ce_type: COMMAND_TYPES.adjustStock,
  'content-type': 'application/json',
};
const adjustment = { warehouseId: 'fra-1', sku: 'SKU-1', delta: 24, reason: 'received' };
const record = (over: Partial<Record<string, string | undefined>> = {}, value: unknown = adjustment): CommandRecord => ({
  headers: Object.fromEntries(Object.entries({ ...headers, ...over }).filter(([, v]) => v !== undefined)) as Record<string, string>,
  value: value === null ? null : typeof value === 'string' ? value : Buffer.from(JSON.stringify(value)),
});
const reason = (r: CommandRecord, maxBytes = 65_536): string => {
  try {
    parseCommand(r, maxBytes);
  } catch (e) {
    if (e instanceof InvalidCommandError) return e.reason;
    throw e;
  }
  throw new Error('parsed');
};

describe('parseCommand', () => {
  it('parses a stock adjustment in binary content mode', () => {
    const command = parseCommand(record({ ce_correlationid: 'order-7' }), 65_536);
    expect(command).toMatchObject({ id: 'cmd-1', type: COMMAND_TYPES.adjustStock, source: 'wms-fra', correlationId: 'order-7' });
    expect({ ...command.data }).toEqual(adjustment);
  });

  it('parses reservation commits and releases, and correlates by the command id by default', () => {
    const reservationId = 'eu-west.0f8fad5b-d9cb-469f-a165-70867728950e';
    for (const type of [COMMAND_TYPES.commitReservation, COMMAND_TYPES.releaseReservation]) {
      const command = parseCommand(record({ ce_type: type }, { reservationId }), 65_536);
      expect(command).toMatchObject({ type, correlationId: 'cmd-1', data: { reservationId } });
    }
  });

  it('fingerprints the type and the data, not the key order or the envelope', () => {
    const a = parseCommand(record(), 65_536).fingerprint;
    const reordered = `{"reason":"received","delta":24,"sku":"SKU-1","warehouseId":"fra-1"}`;
    expect(parseCommand(record({ ce_source: 'other', ce_time: '2026-01-01T00:00:00Z' }, reordered), 65_536).fingerprint).toBe(a);
    expect(parseCommand(record({}, { ...adjustment, delta: 25 }), 65_536).fingerprint).not.toBe(a);
    const reservation = { reservationId: 'eu-west.0f8fad5b-d9cb-469f-a165-70867728950e' };
    expect(parseCommand(record({ ce_type: COMMAND_TYPES.commitReservation }, reservation), 65_536).fingerprint).not.toBe(
      parseCommand(record({ ce_type: COMMAND_TYPES.releaseReservation }, reservation), 65_536).fingerprint,
    );
  });

  it.each([
    ['no spec version', record({ ce_specversion: undefined }), /ce_specversion is undefined/],
    ['an unknown type', record({ ce_type: 'io.stockmesh.stock.set.v1' }), /unknown command type "io.stockmesh.stock.set.v1"/],
    ['an event type', record({ ce_type: 'io.stockmesh.stock.changed.v1' }), /unknown command type/],
    ['no id', record({ ce_id: undefined }), /ce_id undefined/],
    ['an id with a space', record({ ce_id: 'cmd 1' }), /ce_id "cmd 1" must be/],
    ['no source', record({ ce_source: undefined }), /ce_source undefined/],
    ['a bad time', record({ ce_time: 'yesterday' }), /ce_time "yesterday" is not a time/],
    ['no value', record({}, null), /no value/],
    ['a value that is not JSON', record({}, '{"delta": 5,'), /data is not JSON/],
    ['a JSON array', record({}, '[1]'), /not a JSON object/],
    ['a JSON string', record({}, '"x"'), /not a JSON object/],
    ['prototype poisoning', record({}, '{"__proto__":{"delta":5}}'), /data is not JSON: the key __proto__ is not allowed/],
    ['a negative fractional delta', record({}, { ...adjustment, delta: -1.5 }), /invalid data: delta fails isInt/],
    ['a zero delta', record({}, { ...adjustment, delta: 0 }), /delta fails notEquals: delta must not be 0/],
    ['a delta beyond the largest quantity', record({}, { ...adjustment, delta: 1_000_000_001 }), /delta fails max/],
    ['a delta sent as a string (nothing is coerced)', record({}, { ...adjustment, delta: '5' }), /delta fails isInt/],
    ['an unknown reason', record({}, { ...adjustment, reason: 'stolen' }), /reason fails isIn/],
    ['an unknown field', record({}, { ...adjustment, lot: 'L-7' }), /lot fails whitelistValidation: property lot should not exist/],
    ['a missing field', record({}, { warehouseId: 'fra-1', sku: 'SKU-1', delta: 3 }), /reason fails isIn/],
    ['a warehouse id with a slash', record({}, { ...adjustment, warehouseId: 'fra/1' }), /warehouseId fails matches/],
    [
      'a reservation id that names no region',
      record({ ce_type: COMMAND_TYPES.commitReservation }, { reservationId: '0f8fad5b-d9cb-469f-a165-70867728950e' }),
      /reservationId fails matches: reservationId must be <region>.<uuid>/,
    ],
  ])('refuses %s', (_, r, expected) => {
    expect(reason(r)).toMatch(expected);
  });

  it('refuses a value larger than a request body may be', () => {
    expect(reason(record(), 20)).toMatch(/the value is \d+ bytes, more than the 20/);
  });

  it('lists every failed rule at once', () => {
    expect(reason(record({}, { warehouseId: 'fra-1', sku: 'SKU-1', delta: -1.5, reason: 'x', extra: 1 }))).toMatch(
      /extra fails whitelistValidation.*delta fails isInt.*reason fails isIn/,
    );
  });
});
