/** Two tiers: unit tests (pure, no I/O) and integration tests against real servers. */
// Types are checked by `npm run typecheck`; jest only transpiles (tsconfig has isolatedModules).
const tsJest = ['ts-jest', { diagnostics: false }];
// One build under test: imports of src/ resolve to the compiled dist/src/, which the CLI children
// (bin/ -> dist/) and the integration tier's global setup run too; ensure-build makes dist/ current.
const resolver = '<rootDir>/test/jest/resolve-src-to-dist.js';
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/unit'],
      transform: { '^.+\\.ts$': tsJest },
      resolver,
      globalSetup: '<rootDir>/test/jest/ensure-build.js',
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      transform: { '^.+\\.ts$': tsJest },
      resolver,
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
    },
  ],
  // Integration tests share one Neo4j; running files one at a time keeps them from racing on it.
  maxWorkers: 1,
  testTimeout: 120000,
};
