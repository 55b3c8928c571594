import { describe, expect, it } from '@jest/globals';
import { KafkaContext } from '@nestjs/microservices';
import { incomingMessageOf } from './kafka-message.js';

// What Nest's Kafka parser hands over with keepBinary: the value as bytes, the key and headers
// decoded (and JSON-parsed when they look like JSON).
const contextOf = (message: Record<string, unknown>): KafkaContext =>
  new KafkaContext([message as never, 3, 'staging.stockmesh.commands.v1', undefined as never, async () => undefined, undefined as never]);

describe('incomingMessageOf', () => {
  it('gives the logical topic, the bytes of the value and text headers', () => {
    const value = Buffer.from('{"delta": 5');
    const context = contextOf({
      key: 'fra-1',
      value,
      offset: '42',
      timestamp: '1763900000000',
      headers: { ce_id: 'cmd-1', odd: { a: 1 }, list: ['x', 'y'], empty: undefined },
    });
    expect(incomingMessageOf(context, value, 'staging.')).toEqual({
      topic: 'stockmesh.commands.v1',
      partition: 3,
      offset: '42',
      key: 'fra-1',
      value,
      headers: { ce_id: 'cmd-1', odd: '{"a":1}', list: 'x' },
      timestamp: 1763900000000,
    });
  });

  it('has no value for a record without one (the transport then passes the whole message)', () => {
    const message = { key: null, value: null, offset: '0', timestamp: '0', headers: {} };
    expect(incomingMessageOf(contextOf(message), message, '')).toMatchObject({
      key: null,
      value: null,
      topic: 'staging.stockmesh.commands.v1',
    });
  });
});
