// Prints plain closing lines after vitest's own summary that any CI log reader understands:
// every failed test by file and name, every file that failed outside a test, every
// unhandled error, then "Tests: N passed, N failed, N skipped". A failed CI run says what
// failed in its last lines.
import { relative } from 'node:path';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

const firstLine = (error: SerializedError) => (error.message ?? String(error)).split('\n')[0];

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const failures: string[] = [];
    for (const module of testModules) {
      const file = relative(process.cwd(), module.moduleId);
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') {
          counts.failed++;
          failures.push(`FAILED ${file} > ${test.fullName}`);
        } else counts.skipped++;
      }
      // A file that fails to load, or a hook that throws, fails outside any test.
      for (const error of module.errors()) failures.push(`FAILED ${file}: ${firstLine(error)}`);
      for (const suite of module.children.allSuites()) {
        for (const error of suite.errors()) {
          failures.push(`FAILED ${file} > ${suite.fullName}: ${firstLine(error)}`);
        }
      }
    }
    for (const error of unhandledErrors) failures.push(`UNHANDLED ERROR: ${firstLine(error)}`);
    const named = failures.length > 0 ? `\n${failures.join('\n')}\n` : '';
    process.stdout.write(
      `${named}\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
