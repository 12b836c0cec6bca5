// One jest run, four suites. Integration tests share one single-node Kafka that the
// global setup starts (or the cluster named by KAFKA_BROKERS) and run in band: the
// machine has two cores and the broker needs one of them.
/** @type {import('jest').Config} */
const tsJest = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };

module.exports = {
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
      transform: tsJest,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      transform: tsJest,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/tests/integration/global-setup.ts',
      globalTeardown: '<rootDir>/tests/integration/global-teardown.ts',
    },
    {
      displayName: 'chart',
      testMatch: ['<rootDir>/tests/chart/**/*.test.ts'],
      transform: tsJest,
      testEnvironment: 'node',
    },
    // The images built from the Dockerfile and run as the chart runs them, and compose: needs
    // a Docker engine (its global setup builds the images).
    {
      displayName: 'containers',
      testMatch: ['<rootDir>/tests/containers/**/*.test.ts'],
      transform: tsJest,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/tests/containers/global-setup.ts',
    },
  ],
};
