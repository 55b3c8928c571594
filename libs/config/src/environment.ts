import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { readFileSync } from 'node:fs';
import {
  CLUSTER_SECRET_MAX_LENGTH,
  CLUSTER_SECRET_MIN_LENGTH,
  CLUSTER_SECRET_PATTERN,
  ClusterSecret,
  clusterSecretsIn,
} from './cluster-secret.js';
import { defaultCluster, shardMapOf, regionOf, type ClusterConfig } from './cluster-config.js';
import type { AppConfig, KafkaSasl } from './app-config.js';

/** Region ids: lower-case words joined by dashes, e.g. `us-east`, `ap-south-2`. */
export const REGION_ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Region ids end up in database names, which PostgreSQL limits to 63 characters. */
const REGION_ID_MAX = 24;
const HOUR_MS = 3_600_000;

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : value;
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/**
 * Every environment variable a region reads, validated at boot. A bad value stops the process
 * with a message naming each bad variable.
 */
export class EnvironmentDto {
  /** The region this process serves; required to run a region, not for cluster-wide tools. */
  @IsOptional()
  @MaxLength(REGION_ID_MAX)
  @Matches(REGION_ID_PATTERN, { message: 'STOCKMESH_REGION must be a lower-case region id such as us-east' })
  readonly STOCKMESH_REGION?: string;

  /** A JSON cluster file; when set, the STOCKMESH_REGIONS..STOCKMESH_BASE_PORT defaults are ignored. */
  @IsOptional()
  @IsString()
  readonly STOCKMESH_CLUSTER_FILE?: string;

  @Transform(toList)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @MaxLength(REGION_ID_MAX, { each: true })
  @Matches(REGION_ID_PATTERN, { each: true, message: 'STOCKMESH_REGIONS must be a comma-separated list of region ids' })
  readonly STOCKMESH_REGIONS: string[] = ['us-east', 'eu-west', 'ap-south'];

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  readonly STOCKMESH_SHARDS: number = 16;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  readonly STOCKMESH_DATABASES_PER_REGION: number = 2;

  @IsString()
  readonly STOCKMESH_HOST: string = '127.0.0.1';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65000)
  readonly STOCKMESH_BASE_PORT: number = 3001;

  /** Interface of the derived cluster's internal listeners; default STOCKMESH_HOST. */
  @IsOptional()
  @IsString()
  readonly STOCKMESH_INTERNAL_HOST?: string;

  /** Region i's internal listener is on this port + i; default STOCKMESH_BASE_PORT + 100. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65000)
  readonly STOCKMESH_INTERNAL_BASE_PORT?: number;

  /**
   * The secret every region of the cluster signs its calls to the others with (never logged).
   * Set it, or STOCKMESH_CLUSTER_SECRET_FILE, not both; `npm start` makes one.
   */
  @IsOptional()
  @MinLength(CLUSTER_SECRET_MIN_LENGTH, { message: `STOCKMESH_CLUSTER_SECRET must be at least ${CLUSTER_SECRET_MIN_LENGTH} characters` })
  @MaxLength(CLUSTER_SECRET_MAX_LENGTH, { message: `STOCKMESH_CLUSTER_SECRET must be at most ${CLUSTER_SECRET_MAX_LENGTH} characters` })
  @Matches(CLUSTER_SECRET_PATTERN, { message: 'STOCKMESH_CLUSTER_SECRET must be printable ASCII without spaces' })
  readonly STOCKMESH_CLUSTER_SECRET?: string;

  /**
   * A file holding the cluster secret (e.g. a mounted Kubernetes or Docker secret): one per line,
   * the first signs and every one is accepted; the region re-reads it when it changes.
   */
  @IsOptional()
  @IsString()
  readonly STOCKMESH_CLUSTER_SECRET_FILE?: string;

  /** Largest difference between a signed call's timestamp and the receiver's clock. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(300)
  readonly STOCKMESH_INTERNAL_MAX_SKEW_SECONDS: number = 30;

  /** Any connection string to the PostgreSQL server hosting the default databases. */
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  readonly DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/postgres';

  @Matches(/^[a-z][a-z0-9_]{0,30}$/, { message: 'STOCKMESH_DB_PREFIX must be a lower-case identifier of at most 31 characters' })
  readonly STOCKMESH_DB_PREFIX: string = 'stockmesh';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  readonly STOCKMESH_DB_POOL_SIZE: number = 5;

  /**
   * Parameterised statements run as named prepared statements: PostgreSQL parses and plans each
   * once per connection. `false` for a connection pooler that cannot keep them (PgBouncer in
   * transaction mode before 1.21, or without max_prepared_statements).
   */
  @IsIn(['true', 'false'])
  readonly STOCKMESH_DB_PREPARED_STATEMENTS: string = 'true';

  /**
   * Processes serving this region, sharing its ports and databases (docs/deployment.md): with more
   * than one, the region's process is a primary that forks this many workers and re-forks one that
   * dies. Each opens its own pools, so the databases see up to this many x STOCKMESH_DB_POOL_SIZE
   * connections per process.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(32)
  readonly STOCKMESH_INSTANCES: number = 1;

  /**
   * Set by the primary for each worker it forks (1..STOCKMESH_INSTANCES), never by hand: the
   * instance id in log lines and metrics. A re-forked worker gets the index of the one it replaces.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(32)
  readonly STOCKMESH_INSTANCE_INDEX?: number;

  @Transform(toList)
  @IsArray()
  @ArrayMinSize(1)
  @Matches(/^[^\s:]+:\d+$/, { each: true, message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  readonly KAFKA_BROKERS: string[] = ['127.0.0.1:9092'];

  /**
   * Prepended to every topic and consumer group name, so that several clusters (or test runs)
   * can share one Kafka cluster. Empty by default.
   */
  @Matches(/^([a-z0-9][a-z0-9_-]{0,40}\.)?$/, {
    message: 'KAFKA_TOPIC_PREFIX must be empty or a lower-case name ending in a dot, e.g. staging.',
  })
  readonly KAFKA_TOPIC_PREFIX: string = '';

  /** Replication factor of the topics stockmesh creates (1 for a single local broker). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10)
  readonly KAFKA_REPLICATION_FACTOR: number = 1;

  /**
   * Longest time an idle fetch waits at the broker. Fetches ask for at least one byte, so a
   * record that arrives meanwhile is returned at once: this bounds idle polling, not latency.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  readonly KAFKA_MAX_WAIT_MS: number = 500;

  /**
   * SASL of the region's Kafka principal (SCRAM-SHA-512 unless KAFKA_SASL_MECHANISM says
   * otherwise); unset for a plaintext cluster without authentication. The password comes from
   * KAFKA_SASL_PASSWORD or, better, from the file KAFKA_SASL_PASSWORD_FILE names.
   */
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,255}$/, { message: 'KAFKA_SASL_USERNAME must be 1-255 printable ASCII characters without spaces' })
  readonly KAFKA_SASL_USERNAME?: string;
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  readonly KAFKA_SASL_PASSWORD?: string;
  @IsOptional()
  @IsString()
  readonly KAFKA_SASL_PASSWORD_FILE?: string;
  @IsIn(['scram-sha-512', 'scram-sha-256', 'plain'])
  readonly KAFKA_SASL_MECHANISM: string = 'scram-sha-512';
  /** `false` turns publishing and applying events off (the outbox still fills); for tests of one region alone. */
  @IsIn(['true', 'false'])
  readonly STOCKMESH_REPLICATION: string = 'true';

  /** How often each region announces its publishing positions. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  readonly STOCKMESH_HEARTBEAT_MS: number = 1_000;

  /** A region whose heartbeats stopped this long ago is marked stale. */
  @Transform(toInt)
  @IsInt()
  @Min(500)
  @Max(600_000)
  readonly STOCKMESH_STALE_AFTER_MS: number = 5_000;

  /**
   * How often each region publishes a digest of its own rows, per shard, and so how often the
   * other regions check their replicas of them (anti-entropy). A damaged replica row is repaired
   * within about two of these intervals (see docs/architecture.md).
   */
  @Transform(toInt)
  @IsInt()
  @Min(500)
  @Max(86_400_000)
  readonly STOCKMESH_ANTI_ENTROPY_MS: number = 60_000;

  /** Largest accepted request body in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  readonly STOCKMESH_BODY_LIMIT: number = 64 * 1024;

  /** How long a forwarded request may take at the owning region. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  readonly STOCKMESH_FORWARD_TIMEOUT_MS: number = 5_000;

  /**
   * Longest time a hold step at the owner waits for a row lock (or runs one statement) before it
   * gives up with a retriable 503 `busy`; below the coordinator's 2 s wait for the owner's answer.
   */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60_000)
  readonly STOCKMESH_HOLD_LOCK_TIMEOUT_MS: number = 1_000;

  /**
   * How long past its expiry a hold stays held at the owner before the owner releases it on its
   * own, in case its coordinator never does (it lost its state, or the release was lost).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(604_800)
  readonly STOCKMESH_HOLD_GRACE_SECONDS: number = 300;

  /** Pause between two passes of the owner's sweeper of expired holds. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  readonly STOCKMESH_HOLD_SWEEP_MS: number = 1_000;

  /**
   * Pause between two passes of the owner's hold audit, which asks each held hold's coordinator
   * whether its reservation still wants it and releases the holds nobody wants (long before their
   * expiry).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  readonly STOCKMESH_HOLD_AUDIT_SECONDS: number = 60;

  /** How old a hold must be before the audit asks about it: a saga still placing it is left alone. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  readonly STOCKMESH_HOLD_AUDIT_MIN_AGE_SECONDS: number = 60;

  /**
   * The longest a reservation can live, from when it was made: `POST /v1/reservations/{id}/extend`
   * moves its expiry at most this far. Units stay held that long; keep it to the longest payment
   * flow the storefronts need (e.g. a bank transfer or a 3-D Secure challenge that waits on a person).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  readonly STOCKMESH_RESERVATION_MAX_LIFETIME_SECONDS: number = 259_200;

  /**
   * How long a transfer to another region may stay in transit before its source asks the
   * destination what became of it (and cancels it if the destination never received it). At most
   * the transfers topic's retention (30 days): past it, the dispatched event may be gone for good.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(2_592_000_000)
  readonly STOCKMESH_TRANSFER_TIMEOUT_MS: number = 900_000;

  /**
   * How long a reservation (and its allocations) is kept at its coordinator after it became final
   * (committed, commit-failed, released, expired, failed); its Idempotency-Key replays that long.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(8_760)
  readonly STOCKMESH_RESERVATION_RETENTION_HOURS: number = 168;

  /**
   * How long a hold is kept at its owner after it was committed or released. A released hold's
   * row refuses a place that arrives after its release, which a coordinator sends within seconds.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(8_760)
  readonly STOCKMESH_HOLD_RETENTION_HOURS: number = 168;

  /** How long an Idempotency-Key (and a command id) is remembered: a repeat within it replays. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(8_760)
  readonly STOCKMESH_IDEMPOTENCY_RETENTION_HOURS: number = 24;

  /**
   * How long the destination keeps the receipt of a settled transfer. It must outlive every copy
   * of the transfer's events, so at least the 30 days (720 h) of the transfers topic, plus a day.
   */
  @Transform(toInt)
  @IsInt()
  @Min(744)
  @Max(87_600)
  readonly STOCKMESH_TRANSFER_RECEIPT_RETENTION_HOURS: number = 840;

  /** Pause between two passes of the retention sweeper, which deletes finished rows past their retention. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly STOCKMESH_RETENTION_SWEEP_MS: number = 60_000;

  /**
   * The overall deadline of making one reservation: by then it is held, or it failed with every
   * hold it placed given back to the finisher (an owner that does not answer cannot stretch it).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(60_000)
  readonly STOCKMESH_RESERVATION_DEADLINE_MS: number = 10_000;

  /** Requests per second one API key (or, unauthenticated, one client address) may make: the token bucket's refill. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly STOCKMESH_RATE_LIMIT: number = 100;

  /** Requests one key (or address) may make at once, after a quiet time: the token bucket's size. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly STOCKMESH_RATE_BURST: number = 200;

  /** `true` exempts keys with the `admin` scope from rate limits and reservation quotas (benchmarks, tests). */
  @IsIn(['true', 'false'])
  readonly STOCKMESH_LIMITS_EXEMPT_ADMIN: string = 'false';

  /** Reservations one key may have open (being made or held) at once, counted per coordinating region. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  readonly STOCKMESH_QUOTA_OPEN_RESERVATIONS: number = 1_000;

  /** Units one key may have in open reservations at once, counted per coordinating region. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  readonly STOCKMESH_QUOTA_UNITS_HELD: number = 10_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  readonly LOG_LEVEL: string = 'info';

  /**
   * A secret that is an admin API key in every region (automation, CI, docker-compose; `npm
   * start` makes one). Long enough to carry 128 random bits even when written in hex.
   */
  @IsOptional()
  @Matches(/^[\x21-\x7e]{32,256}$/, { message: 'STOCKMESH_ADMIN_KEY must be 32-256 printable ASCII characters without spaces' })
  readonly STOCKMESH_ADMIN_KEY?: string;

  /**
   * A port of its own for Prometheus metrics (`GET /metrics`, no credential), besides the internal
   * listener, which always serves them; unset: no such port. See docs/observability.md.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  readonly STOCKMESH_METRICS_PORT?: number;

  /** Interface the metrics port binds; default the region's internal listener's. */
  @IsOptional()
  @IsString()
  readonly STOCKMESH_METRICS_HOST?: string;

  /** `false` stops serving the OpenAPI document and its UI (/docs), which are open to anyone. */
  @IsIn(['true', 'false'])
  readonly STOCKMESH_DOCS: string = 'true';

  /** `false` stops serving the dashboard page (/dashboard/), whose files hold no data (docs/operations.md). */
  @IsIn(['true', 'false'])
  readonly STOCKMESH_DASHBOARD: string = 'true';
}

class ShardRangeDto {
  @IsInt() @Min(0) readonly from!: number;
  @IsInt() @Min(0) readonly to!: number;
}

class DatabaseDto {
  @IsString() @Matches(/^[\w./-]{1,64}$/) readonly name!: string;
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true }) readonly url!: string;
  /** Absent for a spare database, which hosts shards only once they are moved into it. */
  @IsOptional() @ValidateNested() @Type(() => ShardRangeDto) readonly shards?: ShardRangeDto;
}

class InternalListenerDto {
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }) readonly url!: string;
  @IsString() readonly host!: string;
  @IsInt() @Min(1) @Max(65535) readonly port!: number;
}

class RegionDto {
  @MaxLength(REGION_ID_MAX) @Matches(REGION_ID_PATTERN) readonly id!: string;
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }) readonly url!: string;
  @IsString() readonly host!: string;
  @IsInt() @Min(1) @Max(65535) readonly port!: number;
  @ValidateNested() @Type(() => InternalListenerDto) readonly internal!: InternalListenerDto;
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => DatabaseDto) readonly databases!: DatabaseDto[];
  @IsOptional() @IsArray() @ArrayUnique() @Matches(REGION_ID_PATTERN, { each: true }) readonly allocationOrder?: string[];
}

/** The cluster file (`STOCKMESH_CLUSTER_FILE`): see docs/configuration.md. */
export class ClusterFileDto {
  @IsInt() @Min(1) @Max(1024) readonly shardCount!: number;
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => RegionDto) readonly regions!: RegionDto[];
}

/** Raised when the configuration is invalid; its message lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const at = path ? `${path}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${at}: ${m}`);
    return [...own, ...describe(e.children ?? [], at)];
  });
}

function validated<T extends object>(cls: new () => T, plain: unknown, forbidUnknown = false): T {
  const instance = plainToInstance(cls, plain ?? {}, { exposeDefaultValues: true });
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: forbidUnknown, forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(describe(errors));
  return instance;
}

/** Parses the environment alone (no cluster file); used by tools that do not serve a region. */
export function parseEnvironment(env: NodeJS.ProcessEnv): EnvironmentDto {
  // Unknown variables are none of our business: keep only the ones EnvironmentDto names.
  const known = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && v !== '' && k in new EnvironmentDto()));
  return validated(EnvironmentDto, known);
}

function readClusterFile(path: string): ClusterConfig {
  let plain: unknown;
  try {
    plain = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([`STOCKMESH_CLUSTER_FILE: cannot read ${path}: ${(error as Error).message}`]);
  }
  // A misspelt key in a cluster file is an error, not a silently ignored setting.
  return validated(ClusterFileDto, plain, true);
}

function defaultClusterOf(env: EnvironmentDto): ClusterConfig {
  try {
    return defaultCluster({
      regions: env.STOCKMESH_REGIONS,
      shardCount: env.STOCKMESH_SHARDS,
      databasesPerRegion: env.STOCKMESH_DATABASES_PER_REGION,
      host: env.STOCKMESH_HOST,
      basePort: env.STOCKMESH_BASE_PORT,
      internalHost: env.STOCKMESH_INTERNAL_HOST,
      internalBasePort: env.STOCKMESH_INTERNAL_BASE_PORT,
      databaseUrl: env.DATABASE_URL,
      databasePrefix: env.STOCKMESH_DB_PREFIX,
    });
  } catch (error) {
    throw new ConfigError([`STOCKMESH_DATABASES_PER_REGION: ${(error as Error).message}`]);
  }
}

/** The cluster described by a cluster file or, without one, derived from the environment. */
export function loadCluster(env: EnvironmentDto): ClusterConfig {
  const cluster: ClusterConfig = env.STOCKMESH_CLUSTER_FILE ? readClusterFile(env.STOCKMESH_CLUSTER_FILE) : defaultClusterOf(env);
  const ids = cluster.regions.map((r) => r.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new ConfigError([`region ${dup} is listed twice`]);
  for (const region of cluster.regions) {
    // class-validator lets a missing nested object through: say so rather than fail later.
    if (typeof region.internal !== 'object' || region.internal === null) {
      throw new ConfigError([`region ${region.id}: internal: required: { url, host, port } of its region-to-region listener`]);
    }
    if (region.internal.port > 65535) {
      throw new ConfigError([`region ${region.id}: internal port ${region.internal.port} is above 65535 (STOCKMESH_INTERNAL_BASE_PORT)`]);
    }
    if (region.internal.port === region.port && region.internal.host === region.host) {
      throw new ConfigError([`region ${region.id}: its internal listener cannot share the public port ${region.port}`]);
    }
  }
  for (const region of cluster.regions) {
    const unknown = (region.allocationOrder ?? []).filter((id) => !ids.includes(id));
    if (unknown.length > 0) throw new ConfigError([`region ${region.id}: allocationOrder names unknown regions ${unknown.join(', ')}`]);
  }
  for (const region of cluster.regions) {
    try {
      shardMapOf(cluster, region.id);
    } catch (e) {
      throw new ConfigError([`region ${region.id}: ${(e as Error).message}`]);
    }
  }
  return cluster;
}

/**
 * The cluster secret from STOCKMESH_CLUSTER_SECRET (one key) or the file STOCKMESH_CLUSTER_SECRET_FILE
 * names (one key per line: the first signs, all are accepted; re-read while the region runs).
 */
function clusterSecretOf(env: EnvironmentDto): ClusterSecret | undefined {
  if (env.STOCKMESH_CLUSTER_SECRET !== undefined && env.STOCKMESH_CLUSTER_SECRET_FILE !== undefined) {
    throw new ConfigError(['STOCKMESH_CLUSTER_SECRET_FILE: set either it or STOCKMESH_CLUSTER_SECRET, not both']);
  }
  if (env.STOCKMESH_CLUSTER_SECRET !== undefined) return new ClusterSecret(env.STOCKMESH_CLUSTER_SECRET);
  if (env.STOCKMESH_CLUSTER_SECRET_FILE === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(env.STOCKMESH_CLUSTER_SECRET_FILE, 'utf8');
  } catch (error) {
    throw new ConfigError([`STOCKMESH_CLUSTER_SECRET_FILE: cannot read ${env.STOCKMESH_CLUSTER_SECRET_FILE}: ${(error as Error).message}`]);
  }
  const secrets = clusterSecretsIn(text);
  if (!Array.isArray(secrets))
    throw new ConfigError([`STOCKMESH_CLUSTER_SECRET_FILE: ${env.STOCKMESH_CLUSTER_SECRET_FILE}: ${secrets.problem}`]);
  const [signing, ...alsoAccepted] = secrets;
  return new ClusterSecret(signing!, ...alsoAccepted);
}

/** The SASL settings of the region's Kafka principal, or `undefined` for a cluster without authentication. */
export function kafkaSaslOf(env: EnvironmentDto): KafkaSasl | undefined {
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: inline, KAFKA_SASL_PASSWORD_FILE: file } = env;
  if (username === undefined) {
    if (inline !== undefined || file !== undefined)
      throw new ConfigError(['KAFKA_SASL_USERNAME: required when KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE is set']);
    return undefined;
  }
  if ((inline === undefined) === (file === undefined))
    throw new ConfigError([
      'KAFKA_SASL_PASSWORD: give exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE with KAFKA_SASL_USERNAME',
    ]);
  let password = inline;
  if (file !== undefined) {
    try {
      // A trailing newline is what editors and `echo` add, never part of a generated secret.
      password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError([`KAFKA_SASL_PASSWORD_FILE: cannot read ${file}: ${(error as Error).message}`]);
    }
  }
  if (!password) throw new ConfigError(['KAFKA_SASL_PASSWORD: the password is empty']);
  return { mechanism: env.KAFKA_SASL_MECHANISM as KafkaSasl['mechanism'], username, password };
}

function instancesOf(env: EnvironmentDto, regionId: string): AppConfig['instances'] {
  const index = env.STOCKMESH_INSTANCE_INDEX ?? 1;
  if (index > env.STOCKMESH_INSTANCES) {
    throw new ConfigError([`STOCKMESH_INSTANCE_INDEX: ${index} is above STOCKMESH_INSTANCES (${env.STOCKMESH_INSTANCES})`]);
  }
  return { count: env.STOCKMESH_INSTANCES, index, id: `${regionId}/${index}` };
}

/**
 * The metrics port of this instance: STOCKMESH_METRICS_PORT for the first, the next ports for the
 * others. Unlike the public and internal ports, which every instance shares, it is one port per
 * process, so that Prometheus scrapes each instance's own counters (one target per instance).
 */
function metricsPortOf(env: EnvironmentDto): number | undefined {
  const base = env.STOCKMESH_METRICS_PORT;
  if (base === undefined) return undefined;
  if (base + env.STOCKMESH_INSTANCES - 1 > 65535) {
    throw new ConfigError([
      `STOCKMESH_METRICS_PORT: ${base} leaves no port for each of the ${env.STOCKMESH_INSTANCES} instances below 65536`,
    ]);
  }
  return base + (env.STOCKMESH_INSTANCE_INDEX ?? 1) - 1;
}

/** The typed configuration of one region process, built once at boot. */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = parseEnvironment(env);
  const regionId = parsed.STOCKMESH_REGION;
  if (regionId === undefined) throw new ConfigError(['STOCKMESH_REGION: required: the region this process serves, e.g. us-east']);
  const cluster = loadCluster(parsed);
  const self = (() => {
    try {
      return regionOf(cluster, regionId);
    } catch (e) {
      throw new ConfigError([`STOCKMESH_REGION: ${(e as Error).message}`]);
    }
  })();
  return {
    region: self,
    cluster,
    shardMap: shardMapOf(cluster, self.id),
    db: { poolSize: parsed.STOCKMESH_DB_POOL_SIZE, preparedStatements: parsed.STOCKMESH_DB_PREPARED_STATEMENTS === 'true' },
    instances: instancesOf(parsed, self.id),
    kafka: {
      brokers: parsed.KAFKA_BROKERS,
      clientId: `stockmesh-${self.id}`,
      replicationFactor: parsed.KAFKA_REPLICATION_FACTOR,
      maxWaitMs: parsed.KAFKA_MAX_WAIT_MS,
      topicPrefix: parsed.KAFKA_TOPIC_PREFIX,
      sasl: kafkaSaslOf(parsed),
    },
    replication: {
      enabled: parsed.STOCKMESH_REPLICATION === 'true',
      heartbeatMs: parsed.STOCKMESH_HEARTBEAT_MS,
      staleAfterMs: parsed.STOCKMESH_STALE_AFTER_MS,
      antiEntropyMs: parsed.STOCKMESH_ANTI_ENTROPY_MS,
    },
    http: {
      bodyLimitBytes: parsed.STOCKMESH_BODY_LIMIT,
      forwardTimeoutMs: parsed.STOCKMESH_FORWARD_TIMEOUT_MS,
      docs: parsed.STOCKMESH_DOCS === 'true',
      dashboard: parsed.STOCKMESH_DASHBOARD === 'true',
    },
    holds: {
      lockTimeoutMs: parsed.STOCKMESH_HOLD_LOCK_TIMEOUT_MS,
      expiryGraceMs: parsed.STOCKMESH_HOLD_GRACE_SECONDS * 1_000,
      sweepMs: parsed.STOCKMESH_HOLD_SWEEP_MS,
      auditMs: parsed.STOCKMESH_HOLD_AUDIT_SECONDS * 1_000,
      auditMinAgeMs: parsed.STOCKMESH_HOLD_AUDIT_MIN_AGE_SECONDS * 1_000,
    },
    auth: { adminKey: parsed.STOCKMESH_ADMIN_KEY },
    limits: {
      ratePerSecond: parsed.STOCKMESH_RATE_LIMIT,
      burst: parsed.STOCKMESH_RATE_BURST,
      exemptAdmin: parsed.STOCKMESH_LIMITS_EXEMPT_ADMIN === 'true',
      openReservations: parsed.STOCKMESH_QUOTA_OPEN_RESERVATIONS,
      unitsHeld: parsed.STOCKMESH_QUOTA_UNITS_HELD,
    },
    reservations: {
      deadlineMs: parsed.STOCKMESH_RESERVATION_DEADLINE_MS,
      maxLifetimeMs: parsed.STOCKMESH_RESERVATION_MAX_LIFETIME_SECONDS * 1_000,
    },
    transfers: { timeoutMs: parsed.STOCKMESH_TRANSFER_TIMEOUT_MS },
    retention: {
      reservationsMs: parsed.STOCKMESH_RESERVATION_RETENTION_HOURS * HOUR_MS,
      holdsMs: parsed.STOCKMESH_HOLD_RETENTION_HOURS * HOUR_MS,
      idempotencyMs: parsed.STOCKMESH_IDEMPOTENCY_RETENTION_HOURS * HOUR_MS,
      transferReceiptsMs: parsed.STOCKMESH_TRANSFER_RECEIPT_RETENTION_HOURS * HOUR_MS,
      sweepMs: parsed.STOCKMESH_RETENTION_SWEEP_MS,
    },
    regionTrust: {
      secret: clusterSecretOf(parsed),
      secretFile: parsed.STOCKMESH_CLUSTER_SECRET_FILE,
      maxSkewMs: parsed.STOCKMESH_INTERNAL_MAX_SKEW_SECONDS * 1_000,
    },
    log: { level: parsed.LOG_LEVEL },
    metrics: { port: metricsPortOf(parsed), host: parsed.STOCKMESH_METRICS_HOST ?? self.internal.host },
  };
}
