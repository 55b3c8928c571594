import { ShardMap, splitShards, type ShardDatabase } from '@stockmesh/sharding';

/** One region of the cluster as every region sees it. */
export interface RegionConfig {
  /** Lower-case id, e.g. `us-east`. */
  readonly id: string;
  /** Base URL other regions use to forward requests to it. */
  readonly url: string;
  /** Interface and port its HTTP server binds. */
  readonly host: string;
  readonly port: number;
  /**
   * Its internal listener: the API only regions call (holds, forwarded writes), signed with the
   * cluster secret. Never the same socket as the public one; keep it off the internet.
   */
  readonly internal: InternalListenerConfig;
  /** Its physical databases and the logical shards each hosts. */
  readonly databases: readonly ShardDatabase[];
  /**
   * The other regions whose warehouses a reservation made here may draw from, nearest first
   * (its own warehouses always come first). Default: the other regions in cluster order.
   */
  readonly allocationOrder?: readonly string[];
}

/** Where a region serves its region-to-region API. */
export interface InternalListenerConfig {
  /** Base URL other regions call it at. */
  readonly url: string;
  /** Interface and port it binds. */
  readonly host: string;
  readonly port: number;
}

/** The whole cluster: fixed shard count and every region. Identical in every region. */
export interface ClusterConfig {
  readonly shardCount: number;
  readonly regions: readonly RegionConfig[];
}

/** The settings that derive the default local cluster (three regions on one PostgreSQL server). */
export interface DefaultClusterSettings {
  readonly regions: readonly string[];
  readonly shardCount: number;
  readonly databasesPerRegion: number;
  readonly host: string;
  readonly basePort: number;
  /** Interface of the internal listeners (default `host`). */
  readonly internalHost?: string;
  /** Region i's internal listener is on `internalBasePort + i` (default `basePort + 100`). */
  readonly internalBasePort?: number;
  /** Any connection string to the PostgreSQL server; its database name is replaced. */
  readonly databaseUrl: string;
  /** Prefix of every database name, e.g. `stockmesh` gives `stockmesh_us_east_0`. */
  readonly databasePrefix: string;
}

/** The name of a region's n-th database on the default server: `stockmesh_us_east_0`. */
export function defaultDatabaseName(prefix: string, regionId: string, index: number): string {
  return `${prefix}_${regionId.replace(/-/g, '_')}_${index}`;
}

/** Replaces the database of a PostgreSQL connection string. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * The default cluster: region i listens on `basePort + i` (its internal listener on
 * `internalBasePort + i`, by default `basePort + 100 + i`), and its shards are split evenly over
 * `databasesPerRegion` databases on the one server `databaseUrl` points at.
 */
export function defaultCluster(s: DefaultClusterSettings): ClusterConfig {
  const ranges = splitShards(s.shardCount, s.databasesPerRegion);
  const internalHost = s.internalHost ?? s.host;
  const internalBase = s.internalBasePort ?? s.basePort + 100;
  return {
    shardCount: s.shardCount,
    regions: s.regions.map((id, i) => ({
      id,
      host: s.host,
      port: s.basePort + i,
      url: `http://${s.host}:${s.basePort + i}`,
      internal: { host: internalHost, port: internalBase + i, url: `http://${internalHost}:${internalBase + i}` },
      databases: ranges.map((shards, n) => ({
        name: `${id}/${n}`,
        url: withDatabase(s.databaseUrl, defaultDatabaseName(s.databasePrefix, id, n)),
        shards,
      })),
    })),
  };
}

/** The shard map of one region; throws when the region's databases do not cover every shard once. */
export function shardMapOf(cluster: ClusterConfig, regionId: string): ShardMap {
  const region = regionOf(cluster, regionId);
  return new ShardMap(cluster.shardCount, region.databases);
}

/** The regions a reservation made in `regionId` draws from: itself first, then its allocation order. */
export function allocationOrderOf(cluster: ClusterConfig, regionId: string): string[] {
  const region = regionOf(cluster, regionId);
  const others = region.allocationOrder ?? cluster.regions.map((r) => r.id).filter((id) => id !== regionId);
  return [regionId, ...others.filter((id) => id !== regionId)];
}

export function regionOf(cluster: ClusterConfig, regionId: string): RegionConfig {
  const region = cluster.regions.find((r) => r.id === regionId);
  if (!region) {
    throw new RangeError(`region ${regionId} is not in the cluster (${cluster.regions.map((r) => r.id).join(', ')})`);
  }
  return region;
}
