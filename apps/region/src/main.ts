import { ConfigError, loadAppConfig } from '@stockmesh/config';
import { InternalListener } from './internal/internal-listener.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';
import { createRegionApp } from './region-app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAppConfig(process.env);
    // Without it the region could neither call the others nor check their calls.
    if (config.regionTrust.secret === undefined) {
      throw new ConfigError([
        'STOCKMESH_CLUSTER_SECRET: required: the secret shared by every region of the cluster (or STOCKMESH_CLUSTER_SECRET_FILE); `npm start` makes one',
      ]);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stockmesh: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await createRegionApp(config);
  await app.init();
  // The internal listener first: once the public one answers /health/ready, other regions may call this one.
  await app.get(InternalListener).listen();
  // Only with STOCKMESH_METRICS_PORT: the internal listener serves /metrics anyway.
  await app.get(MetricsEndpoint).listen();
  await app.listen(config.region.port, config.region.host);
}

main().catch((error: unknown) => {
  process.stderr.write(`stockmesh: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
