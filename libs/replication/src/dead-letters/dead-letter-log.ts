import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { TOPICS } from '@stockmesh/contracts';
import { MessageBus, type IncomingMessage, type MessageBatch } from '@stockmesh/messaging';
import { randomUUID } from 'node:crypto';

/** A range of offsets of one partition of the dead-letter topic: `from` included, `to` excluded. */
export interface DeadLetterRange {
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

/**
 * Reads the dead-letter topic on demand, for operators: what Kafka still keeps of each partition,
 * and the records of offset ranges, read by a short-lived consumer of a group of its own (never
 * the region's consumer groups, whose positions it must not move), which stops once every range
 * is read. Nothing is kept between calls: the topic is the truth.
 */
@Injectable()
export class DeadLetterLog {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: MessageBus,
  ) {}

  /** Per partition: the first offset still kept and the offset the next dead letter gets. */
  async bounds(): Promise<{ partition: number; low: bigint; high: bigint }[]> {
    const admin = await this.bus.admin();
    try {
      return (await admin.offsets(TOPICS.deadLetter)).map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }));
    } finally {
      await admin.close();
    }
  }

  /**
   * The records of the ranges, by partition then offset. Ranges must lie within `bounds()`; an
   * empty one is skipped. Rejects when `signal` aborts first (e.g. a deadline).
   */
  async read(ranges: readonly DeadLetterRange[], signal: AbortSignal): Promise<IncomingMessage[]> {
    const targets = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
    if (targets.size === 0) return [];
    const read: IncomingMessage[] = [];
    let finish!: () => void;
    let fail!: (error: Error) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const consumer = this.bus.consumer({
      groupId: `stockmesh.dead-letter-read.${this.config.region.id}.${randomUUID()}`,
      topics: [TOPICS.deadLetter],
      fromBeginning: true,
      maxWaitMs: this.config.kafka.maxWaitMs,
      // Each partition starts at its range; a partition without one would be read for nothing.
      positionsFor: (assigned) =>
        Promise.resolve(
          assigned.map(({ topic, partition }) => ({ topic, partition, offset: (targets.get(partition)?.from ?? 0n).toString() })),
        ),
    });
    const take = (batch: MessageBatch): Promise<undefined> => {
      const range = targets.get(batch.partition);
      if (range === undefined) return Promise.resolve(undefined);
      for (const message of batch.messages) {
        const offset = BigInt(message.offset);
        if (offset >= range.from && offset < range.to) read.push(message);
      }
      if (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n >= range.to) {
        targets.delete(batch.partition);
        if (targets.size === 0) finish();
      }
      return Promise.resolve(undefined);
    };
    const abort = (): void => fail(new Error('the dead-letter topic was not read in time'));
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      await consumer.start(take);
      await finished;
    } finally {
      signal.removeEventListener('abort', abort);
      await consumer.stop();
    }
    return read.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  }
}
