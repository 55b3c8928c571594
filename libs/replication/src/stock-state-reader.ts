import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, parseEvent, PoisonEventError, TOPICS, type CloudEvent, type StockChangedData } from '@stockmesh/contracts';
import { MessageBus, type MessageBatch } from '@stockmesh/messaging';
import { randomUUID } from 'node:crypto';
import { replicatedTopics } from './replicated-topics.js';

/** A row's latest state on the state topic, with the id of the event that carried it. */
export interface StateRow {
  readonly data: StockChangedData;
  readonly eventId: string;
}

/** The state topic's partitions as `{ partition, low, high }` (what `admin.offsets` answers). */
type PartitionEnds = readonly { readonly partition: number; readonly low: string; readonly high: string }[];

/**
 * Where a consumer of the state topic starts each assigned partition: the target partitions at
 * their first record, every other one at its end (it is not read).
 */
export function fromStartOfTargets(
  ends: PartitionEnds,
  targets: ReadonlyMap<number, bigint>,
): (assigned: readonly { topic: string; partition: number }[]) => Promise<{ topic: string; partition: number; offset: string }[]> {
  return (assigned) =>
    Promise.resolve(
      assigned.map(({ topic, partition }) => {
        const end = ends.find((e) => e.partition === partition);
        return { topic, partition, offset: (targets.has(partition) ? end?.low : end?.high) ?? '0' };
      }),
    );
}

/**
 * Refuses (PoisonEventError) a state record the live stock topic would refuse: the same check
 * (`replicatedTopics`), since a row is sent by its warehouse's region on its SKU's shard's
 * partition, and a record written by anyone else with access to the topic would otherwise replace
 * the owner's row in a rebuild or a repair.
 */
export function stateRecordCheck(config: AppConfig): (event: CloudEvent, partition: number) => void {
  const stock = replicatedTopics(config).find((t) => t.topic === TOPICS.stock);
  if (!stock) throw new Error('the stock topic is not replicated');
  return (event, partition) => stock.check(event, partition);
}

/**
 * Reads partitions of the compacted `stockmesh.stock-state.v1` topic from the start up to the
 * end offsets they have when the read begins: the latest published state of every row of those
 * shards. Because the relay writes a change to the state topic before the live topic, the result
 * holds, for every row, a version at least as high as any this region has applied from the live
 * topic before the read began.
 */
@Injectable()
export class StockStateReader {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: MessageBus,
  ) {}

  /**
   * The latest state per `warehouseId/sku` of the shards' rows that `keep` accepts, per shard.
   * Resolves early, with what was read, when `signal` aborts.
   */
  async read(
    shards: readonly number[],
    keep: (row: StockChangedData) => boolean,
    signal: AbortSignal,
  ): Promise<Map<number, Map<string, StateRow>>> {
    const result = new Map(shards.map((s) => [s, new Map<string, StateRow>()]));
    const admin = await this.bus.admin();
    let ends: { partition: number; low: string; high: string }[];
    try {
      ends = await admin.offsets(TOPICS.stockState);
    } finally {
      await admin.close();
    }
    const targets = new Map(
      ends.filter((p) => shards.includes(p.partition) && BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
    );
    if (targets.size === 0 || signal.aborted) return result;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const consumer = this.bus.consumer({
      groupId: `stockmesh.state-read.${this.config.region.id}.${randomUUID()}`,
      topics: [TOPICS.stockState],
      fromBeginning: true,
      maxWaitMs: this.config.kafka.maxWaitMs,
      positionsFor: fromStartOfTargets(ends, targets),
    });
    const check = stateRecordCheck(this.config);
    const take = (batch: MessageBatch): Promise<undefined> => {
      const end = targets.get(batch.partition);
      const rows = result.get(batch.partition);
      if (end === undefined || rows === undefined) return Promise.resolve(undefined);
      for (const message of batch.messages) {
        if (BigInt(message.offset) >= end) break;
        try {
          const event = parseEvent(message, [EVENT_TYPES.stockChanged]);
          check(event, batch.partition);
          const key = `${event.data.warehouseId}/${event.data.sku}`;
          if (keep(event.data) && (rows.get(key)?.data.version ?? 0) < event.data.version)
            rows.set(key, { data: event.data, eventId: event.id });
        } catch (error) {
          // A bad record on the state topic was dead-lettered when it crossed the live topic.
          if (!(error instanceof PoisonEventError)) throw error;
        }
      }
      if (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n >= end) {
        targets.delete(batch.partition);
        if (targets.size === 0) finish();
      }
      return Promise.resolve(undefined);
    };
    const stop = (): void => finish();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await consumer.start(take);
      await finished;
    } finally {
      signal.removeEventListener('abort', stop);
      await consumer.stop();
    }
    return result;
  }
}
