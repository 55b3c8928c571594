import { ConfigError, loadAppConfig } from '@stockmesh/config';
import { createRegionApp } from './region-app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAppConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stockmesh: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await createRegionApp(config);
  await app.listen(config.region.port, config.region.host);
}

main().catch((error: unknown) => {
  process.stderr.write(`stockmesh: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
