import { Injectable } from '@nestjs/common';

/** Records missing from a partition of the live stock topic (removed by retention before this region applied them). */
export interface ReplicaGap {
  readonly topic: string;
  readonly partition: number;
  /** The stored position: the first offset that was never applied. */
  readonly expected: bigint;
  /** The first offset Kafka still had. */
  readonly got: bigint;
}

/**
 * Where the replicator reports a gap in the live stock topic, and where the module that owns the
 * replica rows (stock) registers what repairs them: replication cannot depend on stock.
 */
@Injectable()
export class ReplicaGaps {
  private readonly handlers: ((gap: ReplicaGap) => void)[] = [];

  onGap(handler: (gap: ReplicaGap) => void): void {
    this.handlers.push(handler);
  }

  /** Hands the gap to every handler; returns whether any was there to repair it. */
  report(gap: ReplicaGap): boolean {
    for (const handler of this.handlers) handler(gap);
    return this.handlers.length > 0;
  }
}
