import { ConfigError, loadAppConfig, type AppConfig } from '@stockmesh/config';
import cluster from 'node:cluster';

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
  // Several instances: this process only forks and watches them (it loads no Nest module).
  if (config.instances.count > 1 && cluster.isPrimary) {
    const { runRegionPrimary } = await import('./instances/region-primary.js');
    runRegionPrimary(config);
    return;
  }
  await serve(config);
}

/** One instance of the region: the whole app, on the region's ports (shared through the primary when it has workers). */
async function serve(config: AppConfig): Promise<void> {
  const [{ createRegionApp }, { InternalListener }, { MetricsEndpoint }] = await Promise.all([
    import('./region-app.js'),
    import('./internal/internal-listener.js'),
    import('./metrics/metrics-endpoint.js'),
  ]);
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
