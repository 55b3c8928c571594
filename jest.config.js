// Jest runs in native ESM mode (NestJS 12 ships ES modules only; see docs/development.md).
// Three projects: unit specs beside the code, integration suites against the real PostgreSQL
// and end-to-end suites against the local cluster with the real Kafka broker.
import { readFileSync } from 'node:fs';

const tsconfig = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8'));

/** `@stockmesh/<lib>` aliases from tsconfig, plus ESM `.js` specifiers mapped back to `.ts` sources. */
const moduleNameMapper = {
  ...Object.fromEntries(
    Object.entries(tsconfig.compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target.replace(/^\.\//, '')}`]),
  ),
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

const base = {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper,
  setupFiles: ['reflect-metadata'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }] },
};

export default {
  // Suites share two cores with PostgreSQL, Kafka and region processes: generous, not a benchmark.
  testTimeout: 60_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,infra}/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
  ],
};
