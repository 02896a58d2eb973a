// The suite Stryker runs against each mutant of src/runtime and src/persistence
// (stryker.config.mjs, `npm run mutate`): the in-process tests that drive those folders.
// Left out: tests that spawn processes, kill children, cut sockets or drive a browser
// (test/faults, test/package, test/dashboard/browser, the crash and restart tests, the
// CLI): each takes seconds to minutes, and a mutant there is better caught by a fast test.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/runtime/**/*.test.ts',
      'test/persistence/**/*.test.ts',
      'test/server/**/*.test.ts',
      'test/client/**/*.test.ts',
      'test/dashboard/**/*.test.ts',
      'test/examples/**/*.test.ts',
      'test/protocol/**/*.test.ts',
    ],
    exclude: [
      'test/runtime/crash.test.ts',
      'test/runtime/restartCycles.test.ts',
      'test/runtime/taskCrash.test.ts',
      'test/runtime/outage.test.ts',
      'test/server/serverCrash.test.ts',
      'test/dashboard/browser.test.ts',
    ],
    // Stryker reads results from vitest's state, not from a reporter; the summary lines
    // meant for CI logs would only repeat once per mutant.
    reporters: ['dot'],
  },
});
