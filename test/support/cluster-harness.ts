import { dropDatabases } from '@stockmesh/persistence';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../../infra/cluster/local-cluster.js';
import { call, TEST_ADMIN_KEY } from './inject.js';
import { TEST_CLUSTER_SECRET } from './internal-call.js';
import { testDatabaseUrl, throwawayPrefix } from './throwaway-databases.js';
import { waitFor } from './wait-for.js';

/** The local three-region cluster as real processes, on throwaway databases and free ports. */
export interface TestCluster {
  readonly cluster: LocalCluster;
  /** Where the regions' JSON log lines go. */
  readonly logFile: string;
  /** Prepended to this cluster's topic names. */
  readonly topicPrefix: string;
  url(regionId: string): string;
  /** A region's internal listener, to call it as another region would (see `signedCall`). */
  internal(regionId: string): { readonly internalUrl: string; readonly regionId: string };
  /** Stops every region and drops every database of the cluster. */
  close(): Promise<void>;
}

export async function startTestCluster(
  suite: string,
  env: Record<string, string> = {},
  options: Pick<LocalClusterOptions, 'regions' | 'regionEnv'> = {},
): Promise<TestCluster> {
  const prefix = throwawayPrefix(suite);
  const logDir = join(process.cwd(), '.stockmesh', 'test-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${prefix}.log`);
  const stream = createWriteStream(logFile, { flags: 'a' });
  // A port range per suite run, away from `npm start`'s 3001-3003 and from the ports fetch()
  // refuses to call (6000, 6665-6669, 5060 ...: the Fetch standard's "bad ports").
  const basePort = 20_000 + Math.floor(Math.random() * 2_000) * 4;
  const cluster = await startLocalCluster({
    // Topics of its own, so no other run's events reach this cluster.
    env: {
      KAFKA_TOPIC_PREFIX: `${prefix.replace(/_/g, '-')}.`,
      STOCKMESH_DB_PREFIX: prefix,
      STOCKMESH_BASE_PORT: String(basePort),
      // Internal listeners 8 000 below (12 000-19 999): out of the range other runs draw their public
      // ports from, and below Linux's ephemeral ports (32 768+), which outgoing connections hold.
      STOCKMESH_INTERNAL_BASE_PORT: String(basePort - 8_000),
      STOCKMESH_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
      DATABASE_URL: testDatabaseUrl(),
      LOG_LEVEL: 'info',
      // `call` sends this key by default.
      STOCKMESH_ADMIN_KEY: TEST_ADMIN_KEY,
      // Suites drive the cluster hard with that key: no rate limit or quota of the defaults gets in the way.
      STOCKMESH_LIMITS_EXEMPT_ADMIN: 'true',
      ...env,
    },
    log: { format: 'json', stream },
    ...options,
  });
  return {
    cluster,
    logFile,
    topicPrefix: `${prefix.replace(/_/g, '-')}.`,
    url(regionId: string): string {
      const region = cluster.regions.find((r) => r.id === regionId);
      if (!region) throw new RangeError(`no region ${regionId}`);
      return region.url;
    },
    internal(regionId: string): { readonly internalUrl: string; readonly regionId: string } {
      const region = cluster.regions.find((r) => r.id === regionId);
      if (!region) throw new RangeError(`no region ${regionId}`);
      return { internalUrl: region.internalUrl, regionId };
    },
    async close(): Promise<void> {
      try {
        await cluster.stop();
      } finally {
        stream.end();
        await dropDatabases(cluster.config.regions.flatMap((r) => r.databases.map((d) => d.url)));
      }
    },
  };
}

/**
 * Registers each warehouse at its owning region (`warehouseId → region`) and waits until every
 * region of the cluster lists all of them: from then on any region routes their stock.
 */
export async function registerWarehouses(t: TestCluster, owners: Readonly<Record<string, string>>): Promise<void> {
  for (const [id, region] of Object.entries(owners)) {
    const answer = await call({ url: t.url(region) }, 'PUT', `/v1/warehouses/${id}`, { body: { region, name: id } });
    if (answer.status !== 201) throw new Error(`registering ${id} at ${region} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  const ids = Object.keys(owners);
  for (const region of t.cluster.regions) {
    await waitFor(
      async () => {
        const listed = await call<{ items: { id: string }[] }>({ url: region.url }, 'GET', '/v1/warehouses');
        return ids.every((id) => listed.body.items?.some((w) => w.id === id)) ? true : undefined;
      },
      { what: `${region.id} to know every warehouse` },
    );
  }
}
