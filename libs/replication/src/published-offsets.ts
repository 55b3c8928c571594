import { Injectable } from '@nestjs/common';
import type { PublishedPosition } from '@stockmesh/messaging';

/** The last offset this instance published to each partition of each topic (for heartbeats). */
@Injectable()
export class PublishedOffsets {
  private readonly last = new Map<string, Map<number, bigint>>();

  record(positions: readonly PublishedPosition[]): void {
    for (const p of positions) {
      const byPartition = this.last.get(p.topic) ?? new Map<number, bigint>();
      const offset = BigInt(p.lastOffset);
      if ((byPartition.get(p.partition) ?? -1n) < offset) byPartition.set(p.partition, offset);
      this.last.set(p.topic, byPartition);
    }
  }

  of(topic: string): { partition: number; offset: string }[] {
    return [...(this.last.get(topic) ?? new Map<number, bigint>())]
      .sort(([a], [b]) => a - b)
      .map(([partition, offset]) => ({ partition, offset: offset.toString() }));
  }
}
