/** Two tiers: unit tests (pure, no I/O) and integration tests against real servers. */
// Types are checked by `npm run typecheck`; jest only transpiles (tsconfig has isolatedModules).
const tsJest = ['ts-jest', { diagnostics: false }];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/unit'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
    },
  ],
  // Integration tests share one Neo4j; running files one at a time keeps them from racing on it.
  maxWorkers: 1,
  testTimeout: 120000,
};
