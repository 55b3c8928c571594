export { startTestRegion, type TestRegion, type TestRegionOptions } from './test-region.js';
export { testDatabaseUrl, throwawayPrefix } from './throwaway-databases.js';
export { call, TEST_ADMIN_KEY, type Answer, type Reachable } from './inject.js';
export { registerWarehouses, startTestCluster, type TestCluster } from './cluster-harness.js';
export { divergence, globalView, ownersTruth, viewDiff } from './convergence.js';
export { ManualClock } from './manual-clock.js';
export { waitFor } from './wait-for.js';
export { startPostgresServer, type PostgresServer } from '../../infra/postgres/postgres-server.js';
export { producerOnRegionTopics, regionKafkaEnv, testBrokers, testKafka, testKafkaIsSecured, type TestKafka } from './test-kafka.js';
export { oneLine, rewriteHosts, runShellExample, shellExamples, type ShellExample, type ShellOutcome } from './shell-examples.js';
export {
  signedCall,
  signedHeaders,
  TEST_ADMIN_CALLER,
  TEST_CLUSTER_SECRET,
  type InternalTarget,
  type SignedCallOptions,
} from './internal-call.js';
export { seedReplicaRow, StandInRegion, type StandInAnswer } from './stand-in-region.js';
export { parseExposition, type Exposition, type Sample } from './prometheus-text.js';
export { numberedMessages } from './kafka-batch.js';
