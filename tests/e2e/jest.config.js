// The end-to-end suite against the kind cluster of `make up`: `npm run e2e` (`make e2e`).
// Not part of `npm test` (the main jest.config.js has no project for tests/e2e/).
// @kubernetes/client-node is ESM-only: node runs jest with --experimental-vm-modules so that
// the suite's dynamic import() of it works inside jest's CommonJS module system.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  displayName: 'e2e',
  testMatch: ['<rootDir>/tests/e2e/**/*.e2e.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
  globalSetup: '<rootDir>/tests/e2e/global-setup.ts',
  // Steps build on each other and share one cluster: one file, in order, no retries. A failed
  // step fails the ones after it at once (step() in pipeline.e2e.test.ts); no bail, which would
  // end the run without writing the --json report that CI counts.
  maxWorkers: 1,
  testTimeout: 30 * 60_000,
};
