// `node dist/infra/cluster/make-cluster-secret.js <path>`: makes a cluster secret at <path> unless
// one is there (docker-compose runs it once before the regions start). Prints no secret.
import { ensureClusterSecret } from './cluster-secret.js';

const path = process.argv[2];
if (!path) {
  console.error('usage: make-cluster-secret <path>');
  process.exit(2);
}
try {
  const { created } = ensureClusterSecret(path);
  console.log(`stockmesh: cluster secret ${created ? 'created' : 'kept'} at ${path}`);
} catch (error) {
  console.error(`stockmesh: cannot make the cluster secret at ${path}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
