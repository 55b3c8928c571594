import type { AppConfig } from '@stockmesh/config';
import { TOPICS } from '@stockmesh/contracts';
import type { TopicSpec } from '@stockmesh/messaging';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Partitions of the command and command-result topics: how many instances of a region consume commands at once. */
const COMMAND_PARTITIONS = 8;

/**
 * The topics stockmesh creates, with explicit partition counts and configs. The stock and
 * stock-state topics have one partition per logical shard: shard k is partition k.
 */
export function topicSpecs(config: AppConfig): TopicSpec[] {
  const replicationFactor = config.kafka.replicationFactor;
  const minInsync = String(Math.min(2, replicationFactor));
  const shards = config.cluster.shardCount;
  const compacted = {
    'cleanup.policy': 'compact',
    'min.cleanable.dirty.ratio': '0.1',
    'segment.ms': String(60 * 60 * 1000),
    'min.insync.replicas': minInsync,
  };
  return withCleanElectionsOnly([
    {
      topic: TOPICS.stock,
      partitions: shards,
      replicationFactor,
      config: { 'retention.ms': String(7 * DAY_MS), 'min.insync.replicas': minInsync },
    },
    { topic: TOPICS.stockState, partitions: shards, replicationFactor, config: compacted },
    { topic: TOPICS.catalog, partitions: 1, replicationFactor, config: compacted },
    { topic: TOPICS.apiKeys, partitions: 1, replicationFactor, config: compacted },
    // Digests of owners' rows (anti-entropy): partition = shard, like the stock topic; only fresh ones are compared.
    { topic: TOPICS.stockDigests, partitions: shards, replicationFactor, config: { 'retention.ms': String(60 * 60 * 1000) } },
    { topic: TOPICS.heartbeat, partitions: 1, replicationFactor, config: { 'retention.ms': String(60 * 60 * 1000) } },
    { topic: TOPICS.deadLetter, partitions: 1, replicationFactor, config: { 'retention.ms': String(30 * DAY_MS) } },
    // Commands from other systems and their results: partitions only spread the load (senders key
    // a command by what it changes, so one target's commands stay in order), kept 7 days.
    ...[TOPICS.commands, TOPICS.commandResults].map((topic) => ({
      topic,
      partitions: COMMAND_PARTITIONS,
      replicationFactor,
      config: { 'retention.ms': String(7 * DAY_MS), 'min.insync.replicas': minInsync },
    })),
    // Units in transit live in these records until the destination applies them: kept longer
    // than the stock topic, so a destination region down for days still receives them.
    {
      topic: TOPICS.transfers,
      partitions: shards,
      replicationFactor,
      config: { 'retention.ms': String(30 * DAY_MS), 'min.insync.replicas': minInsync },
    },
    // Alerts for other systems (no region reads them): partition = shard like the stock topic, so
    // one row's alerts stay in order; kept as long as the stock topic.
    {
      topic: TOPICS.stockAlerts,
      partitions: shards,
      replicationFactor,
      config: { 'retention.ms': String(7 * DAY_MS), 'min.insync.replicas': minInsync },
    },
  ]);
}

/**
 * Every topic refuses unclean leader elections, whatever the broker's default: a replica that is
 * out of sync would become leader and drop records that producers (acks=all) were told were written.
 * Kafka's default is the same; stated here so a cluster configured otherwise cannot lose them.
 */
function withCleanElectionsOnly(specs: TopicSpec[]): TopicSpec[] {
  return specs.map((spec) => ({ ...spec, config: { ...spec.config, 'unclean.leader.election.enable': 'false' } }));
}
