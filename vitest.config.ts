import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/harness/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // chDB binds one data directory per process: test files run in separate processes.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
