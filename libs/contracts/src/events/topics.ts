/**
 * Every Kafka topic stockmesh uses. Names are dotted, lower-case and versioned; a breaking change
 * to a topic's records gets a new topic. docs/events.md describes each.
 */
export const TOPICS = {
  /** Every stock change, keyed by SKU; partition k holds logical shard k. Deleted after retention. */
  stock: 'stockmesh.stock.v1',
  /** The latest state of every (warehouse, sku) row, keyed `warehouseId/sku`; compacted; partition = shard. */
  stockState: 'stockmesh.stock-state.v1',
  /** Every warehouse of every region, keyed by warehouse id; compacted. */
  catalog: 'stockmesh.catalog.v1',
  /** Every API key of every region (hashes, never secrets), keyed by key id; compacted, so a revocation stays. */
  apiKeys: 'stockmesh.api-keys.v1',
  /**
   * Each owner's digest of its rows, per shard (anti-entropy), keyed `region/shard`; partition =
   * shard; kept one hour: a digest is only compared while it is fresh.
   */
  stockDigests: 'stockmesh.stock-digests.v1',
  /** Each region's heartbeat with its publishing positions, keyed by region. */
  heartbeat: 'stockmesh.heartbeat.v1',
  /** Records that could not be parsed or applied, with the reason in headers. */
  deadLetter: 'stockmesh.dead-letter.v1',
  /** Commands from other systems (stock adjustments, reservation commits and releases), CloudEvents. */
  commands: 'stockmesh.commands.v1',
  /** What became of each command (completed or rejected), keyed by command id. */
  commandResults: 'stockmesh.command-results.v1',
  /** Transfers between regions (dispatched, received), keyed by transfer id; partition k holds shard k. */
  transfers: 'stockmesh.transfers.v1',
  /**
   * Low-stock and back-in-stock alerts of owned rows, for other systems (regions do not consume
   * it), keyed `warehouseId/sku`; partition = shard, like the stock topic.
   */
  stockAlerts: 'stockmesh.stock-alerts.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** The key of a row on the state topic: `warehouseId/sku` (neither may contain a `/`). */
export function stockStateKey(warehouseId: string, sku: string): string {
  return `${warehouseId}/${sku}`;
}
