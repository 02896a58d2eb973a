import { defineConfig } from 'vitest/config';

const source = (path: string) => new URL(path, import.meta.url).pathname;

export default defineConfig({
  // The examples import the package by name, as a team's project would; in this
  // repository that name is the sources (tsconfig.json's `paths` says the same to tsc).
  resolve: {
    alias: [
      { find: /^steward$/, replacement: source('./src/index.ts') },
      { find: /^steward\/client$/, replacement: source('./src/client/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/globalSetup.ts'],
    pool: 'forks',
    reporters: ['default', './test/helpers/summaryReporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
