export { startTestRegion, type TestRegion, type TestRegionOptions } from './test-region.js';
export { testDatabaseUrl, throwawayPrefix } from './throwaway-databases.js';
export { call, type Answer, type Reachable } from './inject.js';
export { startTestCluster, type TestCluster } from './cluster-harness.js';
export { globalView, viewDiff } from './convergence.js';
export { waitFor } from './wait-for.js';
