export { startTestRegion, type TestRegion } from './test-region.js';
export { testDatabaseUrl, throwawayPrefix } from './throwaway-databases.js';
export { call, type Answer, type Reachable } from './inject.js';
export { startTestCluster, type TestCluster } from './cluster-harness.js';
export { globalView, viewDiff } from './convergence.js';
export { ManualClock } from './manual-clock.js';
export { waitFor } from './wait-for.js';
export { regionKafkaEnv, testBrokers, testKafka, testKafkaIsSecured, type TestKafka } from './test-kafka.js';
export { oneLine, rewriteHosts, runShellExample, shellExamples, type ShellExample, type ShellOutcome } from './shell-examples.js';
