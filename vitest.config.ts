import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/globalSetup.ts'],
    pool: 'forks',
    reporters: ['default', './test/helpers/summaryReporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
