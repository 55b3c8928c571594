import type { ShardMap } from '@stockmesh/sharding';
import type { ClusterConfig, RegionConfig } from './cluster-config.js';

/** Everything a region process is configured with; built and validated once at boot. */
export interface AppConfig {
  /** The region this process serves. */
  readonly region: RegionConfig;
  readonly cluster: ClusterConfig;
  /** This region's logical shards mapped onto its databases. */
  readonly shardMap: ShardMap;
  readonly db: { readonly poolSize: number };
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly replicationFactor: number;
    readonly maxWaitMs: number;
    /** Prepended to every topic and group name at the Kafka boundary (see KafkaJsBus). */
    readonly topicPrefix: string;
  };
  /** Fault injection for tests (see STOCKMESH_TEST_CRASH_REFERENCE); empty in production. */
  readonly faults: { readonly crashAfterRemoteHoldReference?: string };
  readonly replication: {
    /** Publish the outbox and apply other regions' events (off only in single-region tests). */
    readonly enabled: boolean;
    readonly heartbeatMs: number;
    readonly staleAfterMs: number;
    /** Pause between two digests of this region's rows (anti-entropy). */
    readonly antiEntropyMs: number;
  };
  readonly http: { readonly bodyLimitBytes: number; readonly forwardTimeoutMs: number };
  readonly log: { readonly level: string };
}

/** Injection token of the `AppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');
