// Mutation testing of the runtime and the persistence layer: `npm run mutate` (not in CI).
// What it runs, how long it takes and the last score are in docs/testing.md.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['src/runtime/**/*.ts', 'src/persistence/**/*.ts'],
  testRunner: 'vitest',
  // The in-process tests only; the process-spawning suites would make each mutant take minutes.
  vitest: { configFile: 'vitest.mutate.config.ts' },
  // Each mutant runs only the tests that executed its code in the initial run.
  coverageAnalysis: 'perTest',
  // One worker per core of the 2-core machines this runs on; each worker is a vitest instance.
  concurrency: 2,
  // A busy machine makes honest tests slow; give them room before calling a mutant a hang.
  timeoutMS: 10_000,
  // Results of unchanged mutants (same code, same covering tests) are reused on the next run.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { reportTests: false, maxTestsToLog: 1 },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'coverage', 'scratch', 'test-artifacts', '.steward', '*.tgz'],
};
