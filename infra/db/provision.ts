// `npm run db:provision`: creates and migrates the databases of every region of the configured
// cluster, or of STOCKMESH_REGION's only when it is set. Safe to run again: nothing is dropped.
import { regionOf } from '@stockmesh/config';
import { provisionDatabases, redact } from '@stockmesh/persistence';
import { clusterFromEnvironment, describeProvisioning } from '../cluster/local-cluster.js';

async function main(): Promise<void> {
  const cluster = clusterFromEnvironment(process.env);
  const only = process.env.STOCKMESH_REGION;
  const regions = only ? [regionOf(cluster, only)] : cluster.regions;
  const databases = regions.flatMap((r) => r.databases);
  console.log(`db:provision: ${databases.length} databases of ${regions.map((r) => r.id).join(', ')}`);
  for (const db of databases) {
    try {
      const [report] = await provisionDatabases([db]);
      console.log(`db:provision: ${describeProvisioning(db, report)}`);
    } catch (error) {
      throw new Error(`${db.name} (${redact(db.url)}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

main().catch((error: unknown) => {
  console.error(`db:provision: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
