import { murmur2, toPositive } from './murmur2.js';

const utf8 = new TextEncoder();

/**
 * The logical shard of a SKU: `toPositive(murmur2(utf8(sku))) % shardCount`, the same formula as
 * Kafka's default partitioner for a record keyed by the SKU. The shard count is fixed per cluster:
 * changing it moves almost every SKU, so it is part of the cluster's identity, not a tuning knob.
 */
export function shardOf(sku: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  }
  return toPositive(murmur2(utf8.encode(sku))) % shardCount;
}
