import { describe, expect, it } from '@jest/globals';
import { COMMAND_TYPES, EVENT_TYPES, parseEvent, TOPICS } from '@stockmesh/contracts';
import { problemBody } from '@stockmesh/http';
import { commandResult } from './command-results.js';

const command = { id: 'cmd-1', type: COMMAND_TYPES.adjustStock, correlationId: 'order-7' };
const at = new Date('2026-11-23T15:09:53.216Z');

describe('commandResult', () => {
  it('announces a completed command, keyed by its id, as a CloudEvent', () => {
    const record = commandResult(
      command,
      'warehouses/fra-1/stock/SKU-1',
      { kind: 'completed', result: { onHand: 24 }, replayed: false },
      'eu-west',
      at,
    );
    expect(record).toMatchObject({ topic: TOPICS.commandResults, key: 'cmd-1' });
    expect(record.headers).toMatchObject({
      ce_type: EVENT_TYPES.commandCompleted,
      ce_source: 'eu-west',
      ce_subject: 'warehouses/fra-1/stock/SKU-1',
      ce_correlationid: 'order-7',
      ce_time: at.toISOString(),
    });
    const event = parseEvent({ headers: record.headers ?? {}, value: record.value as string }, [EVENT_TYPES.commandCompleted]);
    expect(event.data).toMatchObject({
      commandId: 'cmd-1',
      commandType: COMMAND_TYPES.adjustStock,
      region: 'eu-west',
      replayed: false,
      result: { onHand: 24 },
    });
  });

  it('announces a rejection with the problem details the REST API answers', () => {
    const problem = problemBody('insufficient-stock', 'the change would bring on-hand to -3, below zero', { onHand: 2 });
    const record = commandResult(command, 'warehouses/fra-1/stock/SKU-1', { kind: 'rejected', problem }, 'eu-west', at);
    const event = parseEvent({ headers: record.headers ?? {}, value: record.value as string }, [EVENT_TYPES.commandRejected]);
    expect(event.type).toBe(EVENT_TYPES.commandRejected);
    expect(event.data.problem).toMatchObject({ code: 'insufficient-stock', status: 409, onHand: 2 });
  });
});
