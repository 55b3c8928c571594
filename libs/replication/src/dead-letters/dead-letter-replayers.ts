import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from '@stockmesh/messaging';

/** What replaying a record through its consumer's handler came to. */
export type ReplayResult =
  /** The handler ran it (its effects apply once: the handlers are idempotent); `detail` says what it did. */
  | { readonly outcome: 'applied'; readonly detail: string }
  /** The handler refused it again; nothing changed. `detail` is the reason. */
  | { readonly outcome: 'refused'; readonly detail: string };

/**
 * A consumer of this region that can run a record it dead-lettered again, through the same
 * handler path as when it consumed it, without publishing anything on others' behalf.
 */
export interface DeadLetterReplayer {
  /** The consumer group it dead-letters as (`dlt_consumer`, without the topic prefix). */
  readonly consumerGroup: string;
  /** Runs the original record (as it was consumed: its topic, partition, offset, key, value, headers) again. */
  replay(original: IncomingMessage): Promise<ReplayResult>;
}

/** Where consumers register their replay (the replicator and the command processor do). */
@Injectable()
export class DeadLetterReplayers {
  private readonly byConsumer = new Map<string, DeadLetterReplayer>();

  register(replayer: DeadLetterReplayer): void {
    if (this.byConsumer.has(replayer.consumerGroup)) throw new Error(`a replayer for ${replayer.consumerGroup} is registered twice`);
    this.byConsumer.set(replayer.consumerGroup, replayer);
  }

  find(consumerGroup: string): DeadLetterReplayer | undefined {
    return this.byConsumer.get(consumerGroup);
  }
}
