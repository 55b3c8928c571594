import { beforeEach, describe, expect, it } from '@jest/globals';
import type { AppConfig, Clock } from '@stockmesh/config';
import { CodedException, COMMAND_TYPES, EVENT_TYPES, TOPICS, type ProblemCode } from '@stockmesh/contracts';
import type { IncomingMessage, MessageBus, OutgoingMessage } from '@stockmesh/messaging';
import { Metrics } from '@stockmesh/metrics';
import type { IdempotencyClaim, IdempotencyRepository, IdempotentRequest, ShardDatabases } from '@stockmesh/persistence';
import { DeadLetterReplayers } from '@stockmesh/replication';
import { CommandProcessor } from './command-processor.service.js';
import { InvalidCommandError, type Command, type CommandMessageController } from './command.js';
import type { AdjustStockCommand } from './adjust-stock/adjust-stock.command.js';

// The processor's orchestration with every side effect faked: the ledger is an in-memory
// IdempotencyRepository, the bus records what is published.

class Refusal extends CodedException {
  constructor(code: ProblemCode, message: string) {
    super(code, message);
  }
}

/** `idempotency_keys` of the home database, with the repository's semantics. */
class MemoryLedger {
  readonly rows = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  async claim(_tx: unknown, request: IdempotentRequest): Promise<IdempotencyClaim> {
    const id = `${request.scope} ${request.key}`;
    const stored = this.rows.get(id);
    if (!stored) {
      this.rows.set(id, { fingerprint: request.fingerprint, status: 0, body: null });
      return { outcome: 'fresh' };
    }
    if (stored.fingerprint !== request.fingerprint) return { outcome: 'mismatch' };
    return { outcome: 'replay', status: stored.status, body: stored.body };
  }
  async complete(_tx: unknown, request: IdempotentRequest, status: number, body: unknown): Promise<void> {
    const row = this.rows.get(`${request.scope} ${request.key}`);
    if (row) Object.assign(row, { status, body: JSON.parse(JSON.stringify(body)) });
  }
}

/** An adjustment use case over an in-memory stock, owned as `owners` says. */
class FakeAdjust implements CommandMessageController<AdjustStockCommand> {
  readonly type = COMMAND_TYPES.adjustStock;
  readonly owners = new Map<string, string>([
    ['fra-1', 'eu-west'],
    ['nyc-1', 'us-east'],
    ['mars-1', 'mars'],
  ]);
  onHand = 0;
  runs = 0;
  failWith?: Error;
  async ownerOf(data: AdjustStockCommand): Promise<string> {
    const owner = this.owners.get(data.warehouseId);
    if (!owner) throw new InvalidCommandError(`warehouse ${data.warehouseId} is not in the catalog of region eu-west`);
    return owner;
  }
  subjectOf(data: AdjustStockCommand): string {
    return `warehouses/${data.warehouseId}/stock/${data.sku}`;
  }
  async execute(command: Command<AdjustStockCommand>): Promise<object> {
    this.runs += 1;
    if (this.failWith) throw this.failWith;
    if (this.onHand + command.data.delta < 0) throw new Refusal('insufficient-stock', 'below zero');
    this.onHand += command.data.delta;
    return { onHand: this.onHand };
  }
}

let ledger: MemoryLedger;
let adjust: FakeAdjust;
let published: OutgoingMessage[];
let processor: CommandProcessor;
let offset = 0;

const config = {
  region: { id: 'eu-west' },
  cluster: { regions: [{ id: 'eu-west' }, { id: 'us-east' }] },
  http: { bodyLimitBytes: 65_536 },
} as unknown as AppConfig;

const message = (id: string, data: unknown, type: string = COMMAND_TYPES.adjustStock): IncomingMessage => ({
  topic: TOPICS.commands,
  partition: 0,
  offset: String(offset++),
  key: 'fra-1',
  value: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)),
  headers: { ce_specversion: '1.0', ce_id: id, ce_source: 'wms', ce_type: type },
  timestamp: 0,
});
const adjustment = (delta: number, warehouseId = 'fra-1') => ({ warehouseId, sku: 'SKU-1', delta, reason: 'received' });
const results = (): { type: string; data: Record<string, unknown> }[] =>
  published
    .filter((m) => m.topic === TOPICS.commandResults)
    .map((m) => ({ type: m.headers?.ce_type ?? '', data: JSON.parse(String(m.value)) as Record<string, unknown> }));
const deadLetters = (): OutgoingMessage[] => published.filter((m) => m.topic === TOPICS.deadLetter);

beforeEach(() => {
  ledger = new MemoryLedger();
  adjust = new FakeAdjust();
  published = [];
  const databases = { home: () => 'home', inDatabase: (_db: unknown, work: (tx: unknown) => Promise<unknown>) => work({}) };
  const bus = {
    publisher: async () => ({
      publish: async (messages: readonly OutgoingMessage[]) => {
        published.push(...messages);
        return [];
      },
      close: async () => undefined,
    }),
  };
  const clock: Clock = { now: () => Date.parse('2026-11-23T15:00:00Z') };
  processor = new CommandProcessor(
    config,
    [adjust as unknown as CommandMessageController],
    databases as unknown as ShardDatabases,
    ledger as unknown as IdempotencyRepository,
    clock,
    bus as unknown as MessageBus,
    new Metrics(),
    new DeadLetterReplayers(),
  );
});

describe('CommandProcessor', () => {
  it('runs a command it owns once per id, and answers a repeat with the stored result', async () => {
    await processor.process(message('c-1', adjustment(5)));
    await processor.process(message('c-1', adjustment(5)));
    expect(adjust.runs).toBe(1);
    expect(adjust.onHand).toBe(5);
    expect(results()).toEqual([
      { type: EVENT_TYPES.commandCompleted, data: expect.objectContaining({ commandId: 'c-1', replayed: false, result: { onHand: 5 } }) },
      { type: EVENT_TYPES.commandCompleted, data: expect.objectContaining({ commandId: 'c-1', replayed: true, result: { onHand: 5 } }) },
    ]);
    expect(published.every((m) => m.topic !== TOPICS.commandResults || m.key === 'c-1')).toBe(true);
  });

  it('refuses the same id with other content, and changes nothing', async () => {
    await processor.process(message('c-1', adjustment(5)));
    await processor.process(message('c-1', adjustment(6)));
    expect(adjust.onHand).toBe(5);
    expect(results()[1]).toMatchObject({ type: EVENT_TYPES.commandRejected, data: { problem: { code: 'command-id-reused' } } });
  });

  it('answers a refusal with its problem, and stores nothing: the same command may run later', async () => {
    await processor.process(message('c-2', adjustment(-3)));
    expect(results()[0]).toMatchObject({
      type: EVENT_TYPES.commandRejected,
      data: { problem: { code: 'insufficient-stock', status: 409, detail: 'below zero' } },
    });
    await processor.process(message('c-0', adjustment(10)));
    await processor.process(message('c-2', adjustment(-3)));
    expect(adjust.onHand).toBe(7);
    expect(results()[2]).toMatchObject({ type: EVENT_TYPES.commandCompleted, data: { commandId: 'c-2', replayed: false } });
  });

  it('runs a claimed command whose result was never stored again (the change itself is idempotent)', async () => {
    adjust.failWith = new Error('connection terminated');
    await expect(processor.process(message('c-3', adjustment(4)))).rejects.toThrow('connection terminated');
    expect(results()).toEqual([]);
    adjust.failWith = undefined;
    await processor.process(message('c-3', adjustment(4)));
    expect(adjust.onHand).toBe(4);
    expect(results()).toHaveLength(1);
  });

  it('lets an unavailable owner or database fail the record (read again), rather than answer it', async () => {
    adjust.failWith = new Refusal('region-unavailable', 'us-east did not answer');
    await expect(processor.process(message('c-4', adjustment(1)))).rejects.toThrow('us-east did not answer');
    expect(published).toEqual([]);
  });

  it('answers data the database refuses with a rejection, and retries a transient database error', async () => {
    adjust.failWith = Object.assign(new Error('value out of range for type bigint'), { code: '22003' });
    await processor.process(message('c-9', adjustment(1)));
    expect(results()[0]).toMatchObject({
      type: EVENT_TYPES.commandRejected,
      data: { commandId: 'c-9', problem: { code: 'validation-failed', detail: expect.stringMatching(/SQLSTATE 22003/) } },
    });
    adjust.failWith = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    await expect(processor.process(message('c-10', adjustment(1)))).rejects.toThrow('deadlock detected');
  });

  it("lets other regions' commands pass", async () => {
    await processor.process(message('c-5', adjustment(1, 'nyc-1')));
    expect(adjust.runs).toBe(0);
    expect(published).toEqual([]);
    expect(ledger.rows.size).toBe(0);
  });

  it('dead-letters invalid commands and commands no region of the cluster owns', async () => {
    await processor.process(message('c-6', '{"delta": 1', COMMAND_TYPES.adjustStock));
    await processor.process(message('c-7', adjustment(1, 'nowhere-1')));
    await processor.process(message('c-8', adjustment(1, 'mars-1')));
    expect(deadLetters().map((d) => [d.headers?.ce_id, d.headers?.dlt_consumer])).toEqual([
      ['c-6', 'stockmesh.commands.eu-west'],
      ['c-7', 'stockmesh.commands.eu-west'],
      ['c-8', 'stockmesh.commands.eu-west'],
    ]);
    expect(deadLetters().map((d) => d.headers?.dlt_reason)).toEqual([
      expect.stringMatching(/data is not JSON/),
      'warehouse nowhere-1 is not in the catalog of region eu-west',
      'warehouses/mars-1/stock/SKU-1 belongs to region mars, which is not in this cluster',
    ]);
    expect(results()).toEqual([]);
    expect(adjust.runs).toBe(0);
  });

  it('replays a dead-lettered command once its target is known, once per id, and never dead-letters it again', async () => {
    const poison = message('c-11', adjustment(2, 'late-1'));
    expect(await processor.replay(poison)).toEqual({
      outcome: 'refused',
      detail: 'warehouse late-1 is not in the catalog of region eu-west',
    });
    adjust.owners.set('late-1', 'eu-west');
    expect(await processor.replay(poison)).toEqual({
      outcome: 'applied',
      detail: 'command c-11 completed (warehouses/late-1/stock/SKU-1)',
    });
    expect(await processor.replay(poison)).toMatchObject({ outcome: 'applied', detail: expect.stringMatching(/had run already/) });
    expect(adjust.runs).toBe(1);
    expect(deadLetters()).toEqual([]);
    adjust.owners.set('late-2', 'us-east');
    // Another region's command is not run here, nor recorded as applied: its owner replays it.
    expect(await processor.replay(message('c-12', adjustment(1, 'late-2')))).toMatchObject({
      outcome: 'refused',
      detail: expect.stringMatching(/belongs to us-east: only us-east runs command c-12/),
    });
    expect(await processor.replay(message('c-13', adjustment(-50)))).toMatchObject({
      outcome: 'refused',
      detail: 'command c-13 rejected: insufficient-stock: below zero',
    });
    expect(adjust.onHand).toBe(2);
  });
});
