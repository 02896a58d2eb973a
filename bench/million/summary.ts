// bench/million.ts's summary: what each step measured, then the issue's targets, met or
// missed by how much.
import { cpus, loadavg } from 'node:os';
import { fmt, quantile } from '../support.ts';
import { type Listing, QUESTION_PAGE } from './listing.ts';
import type { Seeded } from './seed.ts';
import type { Started } from './serve.ts';
import { CONCURRENT_TOUCHES, describeTouches, type TouchResult } from './touches.ts';

const TARGET_START_S = 15;
const TARGET_RSS_BYTES = 1.5 * 2 ** 30;
const TARGET_TOUCH_P99_MS = 50;

/** Everything the run measured, as the entry gathered it. */
export interface Outcome {
  total: number;
  waitingCount: number;
  finishedCount: number;
  /** First touches per pass (BENCH_MILLION_TOUCHES). */
  touches: number;
  /** Load average at the bench's start. */
  load: number[];
  serverVersion: string;
  seeded: Seeded;
  server: Started;
  sequential: TouchResult;
  concurrent: TouchResult;
  warm: TouchResult;
  health: Record<string, unknown>;
  afterTouches: { rss: number; peak: number };
  restores: number;
  journaled: number;
  /** First touches acked, both passes. */
  answered: number;
  listing: Listing;
  /** Pending questions the listing should hold. */
  expected: number;
  exitCode: number;
}

function target(goal: string, measured: string, met: boolean, missedBy: string): string {
  return `  ${goal.padEnd(44)} ${measured.padStart(12)}   ${met ? 'met' : `MISSED by ${missedBy}`}`;
}

export function printSummary(outcome: Outcome): void {
  const { total, waitingCount, finishedCount, load, serverVersion, seeded, server } = outcome;
  const { sequential, concurrent, warm, health, afterTouches, restores, journaled } = outcome;
  const { touches, answered, listing, expected, exitCode } = outcome;
  const startS = server.startMs / 1000;
  const listedFirst = listing.byQuestion.get(seeded.firstQuestionId) ?? 0;
  const listedNext = listing.byQuestion.get(seeded.nextQuestionId) ?? 0;
  const p99 = quantile(sequential.latencies, 0.99);
  const p99Concurrent = quantile(concurrent.latencies, 0.99);
  const allListed = listing.questions === expected && listing.ordered;
  const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
  const touched = 2 * touches;
  console.log(
    [
      '',
      '=== Steward: a million stored supervisors ===',
      `date ${new Date().toISOString()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ${serverVersion}`,
      `load average at the bench's start ${load.map((l) => fmt(l, 2)).join(' ')}, at its end ${loadavg()
        .map((l) => fmt(l, 2))
        .join(' ')}`,
      `seed:    ${fmt(total)} rows (${fmt(waitingCount)} waiting_for_user on '${seeded.firstQuestionId}', ${fmt(finishedCount)} completed) in ${fmt(seeded.seconds, 1)} s; supervisor_states ${mib(seeded.tableBytes)}`,
      `start:   ${fmt(startS, 2)} s from spawn to "Steward listening on"; VmRSS then ${mib(server.rssBytes)} (peak ${mib(server.peakRssBytes)}); restored ${server.restored}, failed ${server.failed}, deferred ${server.deferred}`,
      `touch:   sequential, ${fmt(touches)} first touches (answer '${seeded.firstQuestionId}' over HTTP): ${describeTouches(sequential)}`,
      `         ${CONCURRENT_TOUCHES} concurrent, ${fmt(touches)} other first touches: ${describeTouches(concurrent)}`,
      `         baseline: the next answer ('${seeded.nextQuestionId}') of the ${fmt(touches)} sequentially touched, in memory now: ${describeTouches(warm)}`,
      `         after: /healthz supervisorsInMemory ${health.supervisorsInMemory}, supervisorsDeferred ${health.supervisorsDeferred}; VmRSS ${mib(afterTouches.rss)} (peak ${mib(afterTouches.peak)})`,
      `         check: restores counted ${fmt(restores)} of ${fmt(touched)} touched, answers journaled ${fmt(journaled)} of ${fmt(answered + warm.acked)} acked`,
      `list:    ${fmt(listing.questions)} pending questions of ${fmt(expected)} expected ('${seeded.firstQuestionId}' ${fmt(listedFirst)}, '${seeded.nextQuestionId}' ${fmt(listedNext)}), ${fmt(listing.pages)} pages of GET /questions?limit=${QUESTION_PAGE} in ${fmt(listing.seconds, 1)} s${listing.ordered ? '' : '; OUT OF ORDER'}`,
      `stop:    exit code ${exitCode}; ${server.problems.count} log lines at warn or above after the start`,
      '',
      'targets:',
      target(
        `start <= ${TARGET_START_S} s`,
        `${fmt(startS, 2)} s`,
        startS <= TARGET_START_S,
        `${fmt(startS - TARGET_START_S, 2)} s`,
      ),
      target(
        `RSS at start <= 1.5 GiB (${fmt(TARGET_RSS_BYTES / 2 ** 20)} MiB)`,
        mib(server.rssBytes),
        server.rssBytes <= TARGET_RSS_BYTES,
        mib(server.rssBytes - TARGET_RSS_BYTES),
      ),
      target(
        `first touch p99 <= ${TARGET_TOUCH_P99_MS} ms (sequential)`,
        `${fmt(p99, 2)} ms`,
        p99 <= TARGET_TOUCH_P99_MS && sequential.errors === 0,
        sequential.errors > 0
          ? `${sequential.errors} errors`
          : `${fmt(p99 - TARGET_TOUCH_P99_MS, 2)} ms`,
      ),
      target(
        `first touch p99 <= ${TARGET_TOUCH_P99_MS} ms (${CONCURRENT_TOUCHES} concurrent)`,
        `${fmt(p99Concurrent, 2)} ms`,
        p99Concurrent <= TARGET_TOUCH_P99_MS && concurrent.errors === 0,
        concurrent.errors > 0
          ? `${concurrent.errors} errors`
          : `${fmt(p99Concurrent - TARGET_TOUCH_P99_MS, 2)} ms`,
      ),
      target(
        'every pending question listed',
        `${fmt(listing.questions)}`,
        allListed,
        `${fmt(expected - listing.questions)} questions${listing.ordered ? '' : ' (and out of order)'}`,
      ),
    ].join('\n'),
  );
}
