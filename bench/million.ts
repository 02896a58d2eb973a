// A million stored supervisors (issue 14): 90 % waiting for a person, 10 % finished, on
// PostgreSQL. Measures `steward serve` from process start to serving and its RSS then, the
// latency of 1,000 random first touches (an answer each), and that every pending question
// is listable through GET /questions. See bench/README.md, "A million stored supervisors".
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/million.ts
//
// The steps live in bench/million/: seed.ts, serve.ts (the child, its log timeline and
// RSS), touches.ts, listing.ts and summary.ts; this file runs them in order.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { migrate } from '../src/persistence/migrator.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { listQuestions } from './million/listing.ts';
import { type Seeded, seed } from './million/seed.ts';
import { killServe, printTimeline, rssOf, startServe, stopServe } from './million/serve.ts';
import { printSummary } from './million/summary.ts';
import { CONCURRENT_TOUCHES, describeTouches, type Touch, touchAll } from './million/touches.ts';
import { createDatabase, describeUrl, dropDatabase, envNumber, fmt } from './support.ts';

const SEED_STATEMENT_TIMEOUT_MS = 30 * 60_000;

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error(
    'bench/million.ts needs a PostgreSQL server: set DATABASE_URL, e.g.\n' +
      '  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/million.ts\n' +
      'It creates its own database on that server (steward_million_<pid>) and drops it at the end.',
  );
  process.exit(1);
}

const config = {
  total: Math.round(envNumber('BENCH_MILLION_TOTAL', 1_000_000)),
  finishedShare: envNumber('BENCH_MILLION_FINISHED_SHARE', 0.1),
  touches: Math.round(envNumber('BENCH_MILLION_TOUCHES', 1_000)),
};
const finishedCount = Math.max(1, Math.round(config.total * config.finishedShare));
const waitingCount = config.total - finishedCount;
if (config.finishedShare >= 1 || waitingCount < 2 * config.touches) {
  console.error(
    'BENCH_MILLION_TOTAL must leave at least 2 × BENCH_MILLION_TOUCHES waiting supervisors (two passes of first touches)',
  );
  process.exit(1);
}

async function main(url: string): Promise<void> {
  const name = `steward_million_${process.pid}`;
  const load = loadavg();
  console.log(
    `Steward, a million stored supervisors, on ${describeUrl(url)}: database ${name}; ` +
      `BENCH_MILLION_TOTAL=${config.total} (${fmt(waitingCount)} waiting, ${fmt(finishedCount)} finished) ` +
      `BENCH_MILLION_TOUCHES=${config.touches}; load average ${load.map((l) => fmt(l, 2)).join(' ')}`,
  );
  const benchUrl = await createDatabase(url, name);
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await dropDatabase(url, name);
  };
  // Ctrl-C must leave neither the runtime nor the database behind.
  process.once('SIGINT', () => {
    console.error('\ninterrupted: stopping steward serve and dropping the bench database');
    void killServe();
    drop().finally(() => process.exit(130));
  });

  try {
    // A clone statement of 100,000 rows, and VACUUM of a million, outlast the adapter's
    // default 10 s statement timeout on a loaded machine.
    const db = await openPgDatabase({
      connectionString: benchUrl,
      max: 2,
      statementTimeoutMs: SEED_STATEMENT_TIMEOUT_MS,
    });
    let seeded: Seeded;
    let touches: Touch[];
    let serverVersion: string;
    try {
      await migrate(db);
      const version = await db.query<{ v: string }>(
        `SELECT current_setting('server_version') AS v`,
      );
      serverVersion = `PostgreSQL ${version.rows[0]?.v}`;
      seeded = await seed(db, waitingCount, finishedCount);
      console.log(
        `  seed: ${fmt(config.total)} rows in ${fmt(seeded.seconds, 1)} s, supervisor_states ${fmt(seeded.tableBytes / 2 ** 20)} MiB with indexes`,
      );
      // Chosen before the server starts, so the choice touches nothing of it.
      const picked = await db.query<{ id: string; question: string }>(
        `SELECT id, pending_questions -> 0 ->> 'id' AS question FROM supervisor_states
         WHERE state = 'waiting_for_user' ORDER BY random() LIMIT $1`,
        [2 * config.touches],
      );
      touches = picked.rows;
    } finally {
      await db.close();
    }

    const token = `bench-${randomBytes(16).toString('hex')}`;
    const server = await startServe(benchUrl, token);
    const startS = server.startMs / 1000;
    console.log(
      `  serve: listening on ${server.url} ${fmt(startS, 2)} s after spawn, VmRSS ${fmt(server.rssBytes / 2 ** 20)} MiB (peak ${fmt(server.peakRssBytes / 2 ** 20)} MiB); restored ${server.restored}, failed ${server.failed}, deferred ${server.deferred}`,
    );
    printTimeline(server.timeline);

    // One request first, so the measured answers do not include opening the connection.
    await fetch(`${server.url}/healthz`).then((r) => r.json());
    const sequential = await touchAll(
      server.url,
      token,
      touches.slice(0, config.touches),
      1,
      'touch (sequential)',
    );
    console.log(`  touch (sequential): ${describeTouches(sequential)}`);
    const concurrent = await touchAll(
      server.url,
      token,
      touches.slice(config.touches),
      CONCURRENT_TOUCHES,
      `touch (${CONCURRENT_TOUCHES} concurrent)`,
    );
    console.log(`  touch (${CONCURRENT_TOUCHES} concurrent): ${describeTouches(concurrent)}`);
    const health = (await fetch(`${server.url}/healthz`).then((r) => r.json())) as Record<
      string,
      unknown
    >;
    const afterTouches = rssOf(server.child.pid as number);

    const listing = await listQuestions(server.url, token);
    const answered = sequential.acked + concurrent.acked;
    const expected =
      (waitingCount - answered) * seeded.questionsWaiting + answered * seeded.questionsAfterAnswer;
    console.log(
      `  list: ${fmt(listing.questions)} questions of ${fmt(expected)} expected in ${fmt(listing.seconds, 1)} s (${fmt(listing.pages)} pages)`,
    );
    // The baseline of a touch: the next answer of supervisors the sequential pass brought
    // into memory, so the difference is what the first touch itself costs.
    const warm = await touchAll(
      server.url,
      token,
      touches.slice(0, config.touches).map(({ id }) => ({ id, question: seeded.nextQuestionId })),
      1,
      'warm answer (sequential)',
    );
    console.log(`  warm answer (sequential): ${describeTouches(warm)}`);
    const exitCode = await stopServe(server);

    const check = await openPgDatabase({
      connectionString: benchUrl,
      max: 1,
      statementTimeoutMs: SEED_STATEMENT_TIMEOUT_MS,
    });
    let restores: number;
    let journaled: number;
    try {
      const r = await check.query<{ restores: string; answers: string }>(
        `SELECT (SELECT coalesce(sum(restoration_count), 0) FROM supervisor_states) AS restores,
                (SELECT count(*) FROM supervisor_events WHERE kind = 'question_answered') AS answers`,
      );
      restores = Number(r.rows[0]?.restores ?? 0);
      // Less the finished seed's two answers, journaled while seeding.
      journaled = Number(r.rows[0]?.answers ?? 0) - 2;
    } finally {
      await check.close();
    }

    printSummary({
      total: config.total,
      waitingCount,
      finishedCount,
      touches: config.touches,
      load,
      serverVersion,
      seeded,
      server,
      sequential,
      concurrent,
      warm,
      health,
      afterTouches,
      restores,
      journaled,
      answered,
      listing,
      expected,
      exitCode,
    });
  } finally {
    await killServe();
    await drop();
  }
}

main(databaseUrl).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
