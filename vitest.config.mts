import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration and e2e tests start real processes: keep them from competing for 2 cores.
    fileParallelism: false,
    reporters: ['default', './test/plain-summary.ts'],
  },
});
