import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadAppConfig, type AppConfig } from '@stockmesh/config';
import { dropDatabases, provisionDatabases } from '@stockmesh/persistence';
import { InternalListener } from '../../apps/region/src/internal/internal-listener.js';
import { createRegionApp, type RegionAppOptions } from '../../apps/region/src/region-app.js';
import { TEST_ADMIN_KEY } from './inject.js';
import { TEST_CLUSTER_SECRET } from './internal-call.js';
import { regionKafkaEnv } from './test-kafka.js';
import { testDatabaseUrl, throwawayPrefix } from './throwaway-databases.js';

/** One region served in-process against its own throwaway databases on the real PostgreSQL. */
export interface TestRegion {
  readonly app: NestFastifyApplication;
  readonly config: AppConfig;
  /** The region it serves. */
  readonly regionId: string;
  /** Base URL of the app, listening on a free loopback port. */
  readonly url: string;
  /** Base URL of its internal (region-to-region) listener, on another free loopback port. */
  readonly internalUrl: string;
  /** Closes the app and drops its databases. */
  close(): Promise<void>;
}

export interface TestRegionOptions extends RegionAppOptions {
  /**
   * Listen on this port instead of a free one: regions of one test that call each other (their
   * cluster derived from one STOCKMESH_BASE_PORT) must listen where their configuration says.
   */
  readonly port?: number;
}

export async function startTestRegion(
  suite: string,
  env: Record<string, string> = {},
  options: TestRegionOptions = {},
): Promise<TestRegion> {
  const regionId = env.STOCKMESH_REGION ?? 'us-east';
  const config = loadAppConfig({
    STOCKMESH_REGION: regionId,
    STOCKMESH_DB_PREFIX: throwawayPrefix(suite),
    DATABASE_URL: testDatabaseUrl(),
    LOG_LEVEL: 'warn',
    // One region alone: events stay in its outbox (suites that need Kafka turn this on).
    STOCKMESH_REPLICATION: 'false',
    // `call` sends this key by default.
    STOCKMESH_ADMIN_KEY: TEST_ADMIN_KEY,
    // Suites drive regions hard with that key: no rate limit or quota of the defaults gets in the way.
    STOCKMESH_LIMITS_EXEMPT_ADMIN: 'true',
    // A suite that gives the secret as a file gets only the file.
    ...(env.STOCKMESH_CLUSTER_SECRET_FILE === undefined ? { STOCKMESH_CLUSTER_SECRET: TEST_CLUSTER_SECRET } : {}),
    // The region's own principal when the tests' broker authenticates its clients.
    ...regionKafkaEnv(regionId),
    ...env,
  });
  const databases = config.region.databases;
  await provisionDatabases(databases);
  const { port, ...appOptions } = options;
  const app = await createRegionApp(config, { swaggerUi: false, ...appOptions });
  await app.init();
  const internal = app.get(InternalListener);
  // Regions of one test that call each other listen where their configuration says.
  await internal.listen(port === undefined ? 0 : config.region.internal.port, '127.0.0.1');
  await app.listen(port ?? 0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    config,
    regionId: config.region.id,
    url,
    internalUrl: internal.url(),
    async close(): Promise<void> {
      await app.close();
      await dropDatabases(databases.map((d) => d.url));
    },
  };
}
