// Where a durable answer's time goes (issue 14, deliverable 1), on both sides of the group
// commit. Three modes, findings in bench/profile.md:
//
//   explain    PostgreSQL: EXPLAIN (ANALYZE, BUFFERS, VERBOSE, WAL) of the writer's commit
//              statement at batch sizes 1/32/256, rolled back, as sent and with the
//              snapshot replaced by {}, the journal FK dropped, or only the primary key
//              on supervisor_states; jsonb parsing of the parameters, relation locks,
//              HOT updates and which indexed columns change.
//   loop       Node: the closed loop of bench (b) for a while; CPU per answer (Node and
//              the PostgreSQL backends), event-loop delay, time in JSON.stringify/parse,
//              HOT statistics. Run it under --cpu-prof.
//   summarize  Self time per function and per module of a .cpuprofile, limited to the
//              loop's measured window.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/profileCommit.ts explain
//   DATABASE_URL=... node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profileCommit.ts loop
//   npx tsx bench/profileCommit.ts summarize /tmp/prof
//
// explain and loop each create their own database steward_prof_<pid>, migrate it with
// migrate() and drop it at the end.
//
// The modes live in bench/profile/: explain.ts, loop.ts and summarize.ts, with what
// explain and loop share (seed.ts, answerLoop.ts, config.ts) beside them.

import { config, profileDir } from './profile/config.ts';
import { explainMode } from './profile/explain.ts';
import { loopMode } from './profile/loop.ts';
import { summarize } from './profile/summarize.ts';
import { databaseUrlFor } from './support.ts';

/** When the process started, on the clock of the CPU profile (µs, CLOCK_MONOTONIC). */
const PROCESS_START_US = Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === 'summarize') {
    summarize(process.argv[3] ?? profileDir());
    return;
  }
  const url = process.env.DATABASE_URL;
  if (!url || (mode !== 'explain' && mode !== 'loop')) {
    console.error(
      'usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/profileCommit.ts explain|loop\n' +
        '       npx tsx bench/profileCommit.ts summarize <dir or .cpuprofile>',
    );
    process.exit(1);
  }
  console.log(
    `server ${databaseUrlFor(url, '').replace(/\/\/[^@]*@/, '//')}; ${JSON.stringify(config)}`,
  );
  if (mode === 'explain') await explainMode(url);
  else await loopMode(url, PROCESS_START_US);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  // Held answers and open handles would keep a failed run alive.
  process.exit(1);
});
