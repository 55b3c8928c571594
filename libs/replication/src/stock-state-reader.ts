import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, parseEvent, PoisonEventError, TOPICS, type StockChangedData } from '@stockmesh/contracts';
import { MessageBus, type MessageBatch } from '@stockmesh/messaging';
import { shardOf } from '@stockmesh/sharding';
import { randomUUID } from 'node:crypto';

/** A row's latest state on the state topic, with the id of the event that carried it. */
export interface StateRow {
  readonly data: StockChangedData;
  readonly eventId: string;
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
      // Only the target partitions are read: every other one starts at its end.
      positionsFor: (assigned) =>
        Promise.resolve(
          assigned.map(({ topic, partition }) => ({
            topic,
            partition,
            offset: (() => {
              const end = ends.find((e) => e.partition === partition);
              return (targets.has(partition) ? end?.low : end?.high) ?? '0';
            })(),
          })),
        ),
    });
    const take = (batch: MessageBatch): Promise<undefined> => {
      const end = targets.get(batch.partition);
      const rows = result.get(batch.partition);
      if (end === undefined || rows === undefined) return Promise.resolve(undefined);
      for (const message of batch.messages) {
        if (BigInt(message.offset) >= end) break;
        try {
          const event = parseEvent(message, [EVENT_TYPES.stockChanged]);
          // What the live topic's check refuses is not taken from the state topic either: a row is
          // sent by its warehouse's region, on its shard's partition (a record written by anyone
          // else with access to the topic would otherwise replace the owner's row in a repair).
          if (
            event.source !== event.data.region ||
            event.data.shard !== batch.partition ||
            shardOf(event.data.sku, this.config.cluster.shardCount) !== batch.partition
          )
            continue;
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
