export { startTestRegion, type TestRegion } from './test-region.js';
export { testDatabaseUrl, throwawayPrefix } from './throwaway-databases.js';
export { call, type Answer, type Reachable } from './inject.js';
export { startTestCluster, type TestCluster } from './cluster-harness.js';
export { divergence, globalView, ownersTruth, viewDiff } from './convergence.js';
export { waitFor } from './wait-for.js';
