import type { ShardMap } from '@stockmesh/sharding';
import type { ClusterConfig, RegionConfig } from './cluster-config.js';
import type { ClusterSecret } from './cluster-secret.js';

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
  readonly db: {
    readonly poolSize: number;
    /** Parameterised statements run as named prepared statements (STOCKMESH_DB_PREPARED_STATEMENTS). */
    readonly preparedStatements: boolean;
  };
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
    /** Pause between two digests of this region's rows (anti-entropy). */
    readonly antiEntropyMs: number;
  };
  readonly http: {
    readonly bodyLimitBytes: number;
    readonly forwardTimeoutMs: number;
    /** Serve the OpenAPI document and UI at /docs (open to anyone). */
    readonly docs: boolean;
    /** Serve the dashboard's static files at /dashboard/ (open to load; every figure it shows needs a key). */
    readonly dashboard: boolean;
  };
  /** Holds at this region as the owner of the stock (see docs/reservations.md). */
  readonly holds: {
    /** Longest wait for a lock (or one statement) in a hold step; past it the step answers 503 `busy`. */
    readonly lockTimeoutMs: number;
    /** A hold still held this long past its expiry is released by the owner itself. */
    readonly expiryGraceMs: number;
    /** Pause between two passes of the owner's sweeper of expired holds. */
    readonly sweepMs: number;
    /** Pause between two passes of the owner's audit of held holds with their coordinators. */
    readonly auditMs: number;
    /** Holds younger than this are not audited (their saga may still be placing them). */
    readonly auditMinAgeMs: number;
  };
  readonly auth: {
    /** STOCKMESH_ADMIN_KEY: a secret that is an admin key in every region; never logged. */
    readonly adminKey?: string;
  };
  /** Rate limits and reservation quotas per API key (see docs/security.md, "Limits"). Per region process. */
  readonly limits: {
    /** Token bucket refill: requests per second per key, or per client address without a valid key. */
    readonly ratePerSecond: number;
    /** Token bucket size: requests at once after a quiet time. */
    readonly burst: number;
    /** Keys with the `admin` scope are neither rate-limited nor held to quotas. */
    readonly exemptAdmin: boolean;
    /** Open (pending or held) reservations per key at this coordinating region. */
    readonly openReservations: number;
    /** Units in open reservations per key at this coordinating region. */
    readonly unitsHeld: number;
  };
  /** Reservations coordinated here. */
  readonly reservations: {
    /** Longest a create takes before it answers, held or failed with nothing held. */
    readonly deadlineMs: number;
    /** The longest a reservation can live from when it was made, however often it is extended. */
    readonly maxLifetimeMs: number;
  };
  /** How long a transfer across regions may stay in transit before the source reconciles it with the destination. */
  readonly transfers: { readonly timeoutMs: number };
  /** How long finished rows stay before the retention sweeper deletes them (docs/configuration.md). */
  readonly retention: {
    /** Reservations and their allocations, from the time they became final. */
    readonly reservationsMs: number;
    /** Holds at this region as an owner, from their commit or release. */
    readonly holdsMs: number;
    /** Idempotency-Keys and command ids, from their first use. */
    readonly idempotencyMs: number;
    /** Receipts of transfers this region settled as the destination. */
    readonly transferReceiptsMs: number;
    /** Pause between two passes of the retention sweeper. */
    readonly sweepMs: number;
  };
  /** Region-to-region authentication (see docs/security.md, "Region-to-region trust"). */
  readonly regionTrust: {
    /**
     * The cluster secret (`STOCKMESH_CLUSTER_SECRET` or `..._FILE`). Optional here so that tools
     * and unit tests need none; a region process refuses to start without it, and without it a
     * region signs nothing and accepts no internal call.
     */
    readonly secret: ClusterSecret | undefined;
    /** The file the secret was read from (STOCKMESH_CLUSTER_SECRET_FILE), re-read as it changes. */
    readonly secretFile: string | undefined;
    /** A signed call whose timestamp is further than this from the receiver's clock is refused. */
    readonly maxSkewMs: number;
  };
  /** The processes serving this region (STOCKMESH_INSTANCES), and which of them this one is. */
  readonly instances: {
    readonly count: number;
    /** 1..count: this process's place among them (1 when the region runs as one process). */
    readonly index: number;
    /** `<region>/<index>`, e.g. `us-east/2`: what log lines and metrics call this process. */
    readonly id: string;
  };
  readonly log: { readonly level: string };
  /** Prometheus metrics (see docs/observability.md): always on the internal listener, here also on a port of their own. */
  readonly metrics: {
    /** STOCKMESH_METRICS_PORT; `undefined`: no port of their own. */
    readonly port?: number;
    readonly host: string;
  };
}

/** Injection token of the `AppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');
