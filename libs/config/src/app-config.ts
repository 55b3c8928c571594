import type { ShardMap } from '@stockmesh/sharding';
import type { ClusterConfig, RegionConfig } from './cluster-config.js';

/** How a region authenticates to Kafka: its own principal (see infra/kafka/README.md). */
export interface KafkaSasl {
  readonly mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain';
  readonly username: string;
  readonly password: string;
}

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
    /** SASL credentials; `undefined` for a plaintext cluster without authentication. */
    readonly sasl?: KafkaSasl;
  };
  readonly replication: {
    /** Publish the outbox and apply other regions' events (off only in single-region tests). */
    readonly enabled: boolean;
    readonly heartbeatMs: number;
    readonly staleAfterMs: number;
  };
  readonly http: { readonly bodyLimitBytes: number; readonly forwardTimeoutMs: number };
  /** Holds at this region as the owner of the stock (see docs/reservations.md). */
  readonly holds: {
    /** Longest wait for a lock (or one statement) in a hold step; past it the step answers 503 `busy`. */
    readonly lockTimeoutMs: number;
    /** A hold still held this long past its expiry is released by the owner itself. */
    readonly expiryGraceMs: number;
    /** Pause between two passes of the owner's sweeper of expired holds. */
    readonly sweepMs: number;
  };
  readonly log: { readonly level: string };
}

/** Injection token of the `AppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');
