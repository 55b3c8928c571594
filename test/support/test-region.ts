import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadAppConfig, type AppConfig, type Clock } from '@stockmesh/config';
import { dropDatabases, provisionDatabases } from '@stockmesh/persistence';
import { createRegionApp } from '../../apps/region/src/region-app.js';
import { regionKafkaEnv } from './test-kafka.js';
import { testDatabaseUrl, throwawayPrefix } from './throwaway-databases.js';

/** One region served in-process against its own throwaway databases on the real PostgreSQL. */
export interface TestRegion {
  readonly app: NestFastifyApplication;
  readonly config: AppConfig;
  /** Base URL of the app, listening on a free loopback port. */
  readonly url: string;
  /** Closes the app and drops its databases. */
  close(): Promise<void>;
}

export async function startTestRegion(
  suite: string,
  env: Record<string, string> = {},
  options: { readonly clock?: Clock } = {},
): Promise<TestRegion> {
  const regionId = env.STOCKMESH_REGION ?? 'us-east';
  const config = loadAppConfig({
    STOCKMESH_REGION: regionId,
    STOCKMESH_DB_PREFIX: throwawayPrefix(suite),
    DATABASE_URL: testDatabaseUrl(),
    LOG_LEVEL: 'warn',
    // One region alone: events stay in its outbox (suites that need Kafka turn this on).
    STOCKMESH_REPLICATION: 'false',
    // The region's own principal when the tests' broker authenticates its clients.
    ...regionKafkaEnv(regionId),
    ...env,
  });
  const databases = config.region.databases;
  await provisionDatabases(databases);
  const app = await createRegionApp(config, { swaggerUi: false, clock: options.clock });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    config,
    url,
    async close(): Promise<void> {
      await app.close();
      await dropDatabases(databases.map((d) => d.url));
    },
  };
}
