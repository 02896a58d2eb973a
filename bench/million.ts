// A million stored supervisors (issue 14): 90 % waiting for a person, 10 % finished, on
// PostgreSQL. Measures `steward serve` from process start to serving and its RSS then, the
// latency of 1,000 random first touches (an answer each), and that every pending question
// is listable through GET /questions. See bench/README.md, "A million stored supervisors".
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/million.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createMachineRegistry } from '../src/machines/registry.ts';
import type { Database } from '../src/persistence/database.ts';
import { migrate } from '../src/persistence/migrator.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { millionMachineDefinition } from './million.config.ts';
import {
  createDatabase,
  describeUrl,
  dropDatabase,
  envNumber,
  fmt,
  quantile,
  runPool,
} from './support.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CONFIG_FILE = fileURLToPath(new URL('./million.config.ts', import.meta.url));

const TARGET_START_S = 15;
const TARGET_RSS_BYTES = 1.5 * 2 ** 30;
const TARGET_TOUCH_P99_MS = 50;
/** Rows one clone statement inserts. */
const CHUNK = 100_000;
const SEED_STATEMENT_TIMEOUT_MS = 30 * 60_000;
/** Answers in flight in the second pass of first touches. */
const CONCURRENT_TOUCHES = 16;
/** Page size of GET /questions (its maximum). */
const QUESTION_PAGE = 1_000;
const OWNER = 'bench';
/** A plan without steps: approving it leads straight to the final approval (no tasks). */
const PLAN = { goal: 'publish the quarterly report', steps: [] as string[] };

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

// ---------------------------------------------------------------------------------------
// 1. seed

/** What seeding left in the table. */
interface Seeded {
  seconds: number;
  tableBytes: number;
  /** Pending questions of a waiting row, and of one after its first answer. */
  questionsWaiting: number;
  questionsAfterAnswer: number;
  /** The question a waiting row asks, and the one asked after it is answered. */
  firstQuestionId: string;
  nextQuestionId: string;
}

/** The row of one genuine supervisor, cloned `copies` times server-side, chunk by chunk. */
async function cloneRow(db: Database, id: string, copies: number, what: string): Promise<void> {
  // Every column the host wrote, except the key and what PostgreSQL generates itself.
  const { rows } = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'supervisor_states'
       AND column_name <> 'id' AND is_generated = 'NEVER'
     ORDER BY ordinal_position`,
  );
  const columns = rows.map((r) => r.column_name).join(', ');
  const sql = `INSERT INTO supervisor_states (id, ${columns})
     SELECT gen_random_uuid(), ${columns}
     FROM supervisor_states, generate_series(1, $2::integer)
     WHERE id = $1`;
  let done = 0;
  while (done < copies) {
    const n = Math.min(CHUNK, copies - done);
    const started = performance.now();
    await db.query(sql, [id, n]);
    done += n;
    console.log(
      `  seed: ${fmt(done)} / ${fmt(copies)} ${what} clones (${fmt(n / ((performance.now() - started) / 1000))} rows/s)`,
    );
  }
}

async function seed(db: Database): Promise<Seeded> {
  const started = performance.now();
  const registry = createMachineRegistry();
  registry.register(millionMachineDefinition);
  const host = createSupervisorHost({
    store: createSupervisorStore(db),
    registry,
    heartbeatIntervalMs: 0,
  });
  let seeds: { waiting: string; finished: string };
  let questionsAfterAnswer: number;
  let nextQuestionId: string;
  try {
    // Two real supervisors through the real host: one left waiting on its plan approval,
    // one taken through both of its questions to `completed`.
    const waiting = await host.spawn('reference', PLAN, { owner: OWNER });
    const finished = await host.spawn('reference', PLAN, { owner: OWNER });
    const asked = host.committed(finished.id)?.pendingQuestions ?? [];
    const first = asked[0];
    if (asked.length !== 1 || !first) throw new Error(`seed asked ${asked.length} questions`);
    await host.answer(finished.id, first.id, true);
    const after = host.committed(finished.id)?.pendingQuestions ?? [];
    questionsAfterAnswer = after.length;
    const next = after[0];
    if (!next) throw new Error('the seed asked nothing after its plan was approved');
    nextQuestionId = next.id;
    await host.answer(finished.id, next.id, true);
    seeds = { waiting: waiting.id, finished: finished.id };
  } finally {
    await host.stop();
  }

  const { rows } = await db.query<{
    id: string;
    state: string;
    questions: number;
    question: string | null;
    work_in_flight: boolean;
    next_timer_at: Date | null;
    bytes: number;
  }>(
    `SELECT id, state, jsonb_array_length(pending_questions) AS questions,
            pending_questions -> 0 ->> 'id' AS question, work_in_flight, next_timer_at,
            pg_column_size(snapshot) AS bytes
     FROM supervisor_states WHERE id = ANY($1::uuid[])`,
    [[seeds.waiting, seeds.finished]],
  );
  const waitingRow = rows.find((r) => r.id === seeds.waiting);
  const finishedRow = rows.find((r) => r.id === seeds.finished);
  if (waitingRow?.state !== 'waiting_for_user' || finishedRow?.state !== 'completed') {
    throw new Error(
      `seed rows are ${waitingRow?.state} / ${finishedRow?.state}, not waiting_for_user / completed`,
    );
  }
  for (const row of rows) {
    console.log(
      `  seed: genuine ${row.state} row: ${row.questions} pending (${row.question ?? 'none'}), work_in_flight ${row.work_in_flight}, next_timer_at ${row.next_timer_at?.toISOString() ?? 'null'}, snapshot ${fmt(row.bytes)} B stored`,
    );
  }

  await cloneRow(db, seeds.waiting, waitingCount - 1, 'waiting');
  await cloneRow(db, seeds.finished, finishedCount - 1, 'finished');
  const vacuum = performance.now();
  await db.exec('VACUUM ANALYZE supervisor_states');
  console.log(`  seed: VACUUM ANALYZE in ${fmt((performance.now() - vacuum) / 1000, 1)} s`);
  const size = await db.query<{ bytes: string }>(
    `SELECT pg_total_relation_size('supervisor_states') AS bytes`,
  );
  return {
    seconds: (performance.now() - started) / 1000,
    tableBytes: Number(size.rows[0]?.bytes ?? 0),
    questionsWaiting: waitingRow.questions,
    questionsAfterAnswer,
    firstQuestionId: waitingRow.question ?? '',
    nextQuestionId,
  };
}

// ---------------------------------------------------------------------------------------
// 2. steward serve

/** One JSON log line of the runtime, with when it was printed relative to the spawn. */
interface LogLine {
  atMs: number;
  msg: string;
  fields: Record<string, unknown>;
}

interface Started {
  child: ChildProcess;
  exited: Promise<number | null>;
  url: string;
  startMs: number;
  rssBytes: number;
  peakRssBytes: number;
  deferred: number | undefined;
  restored: number | undefined;
  failed: number | undefined;
  timeline: LogLine[];
  /** Log lines at warn or above after the start, counted (the first few are printed). */
  problems: { count: number };
}

/** The `steward serve` child while it runs: a Ctrl-C or a failure must not leave it behind. */
let serveChild: ChildProcess | undefined;

/** VmRSS and VmHWM of a process, in bytes. */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}

function startServe(url: string, token: string): Promise<Started> {
  const args = [
    '--import',
    'tsx',
    'src/cli.ts',
    'serve',
    '--port',
    '0',
    '--no-demo',
    '--config',
    CONFIG_FILE,
  ];
  console.log(`  serve: node ${args.join(' ')}`);
  const spawnedWall = Date.now();
  const spawned = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: url,
      STEWARD_TOKENS: `*:${token}`,
      LOG_LEVEL: 'info',
      STEWARD_RESTORE: 'lazy',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  serveChild = child;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      serveChild = undefined;
      resolve(code);
    }),
  );
  const timeline: LogLine[] = [];
  const problems = { count: 0 };
  return new Promise<Started>((resolve, reject) => {
    let listening = false;
    let deferred: number | undefined;
    // Read to the end, also after the start: a full pipe would block the runtime's logger.
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const receivedMs = performance.now() - spawned;
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(line) as Record<string, unknown>;
      } catch {
        console.log(`  serve: ${line}`);
        return;
      }
      const msg = String(fields.msg ?? '');
      if (listening) {
        if (Number(fields.level) >= 40 && ++problems.count <= 5) console.log(`  serve: ${line}`);
        return;
      }
      const time = typeof fields.time === 'string' ? Date.parse(fields.time) : Number.NaN;
      timeline.push({ atMs: Number.isNaN(time) ? receivedMs : time - spawnedWall, msg, fields });
      if (msg === 'restore deferred to first touch') deferred = Number(fields.deferred);
      if (msg.startsWith('Steward listening on')) {
        listening = true;
        const { rss, peak } = rssOf(child.pid as number);
        resolve({
          child,
          exited,
          url: String(fields.url),
          startMs: receivedMs,
          rssBytes: rss,
          peakRssBytes: peak,
          deferred,
          restored: fields.restored as number | undefined,
          failed: fields.failed as number | undefined,
          timeline,
          problems,
        });
      }
    });
    void exited.then((code) => {
      if (!listening) reject(new Error(`steward serve exited with ${code} before listening`));
    });
  });
}

/** The start as its log lines tell it, with the gap each step took. */
function printTimeline(timeline: readonly LogLine[]): void {
  const shown =
    timeline.length <= 30 ? timeline : [...timeline.slice(0, 15), ...timeline.slice(-15)];
  let previous = 0;
  console.log('  start timeline (ms since spawn, from the runtime log timestamps; +gap):');
  for (const [i, line] of shown.entries()) {
    if (timeline.length > 30 && i === 15) {
      console.log(`    … ${timeline.length - 30} lines …`);
    }
    const extra = Object.entries(line.fields)
      .filter(([k]) => !['level', 'time', 'pid', 'name', 'msg', 'hostname'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    console.log(
      `    ${fmt(line.atMs).padStart(7)} (+${fmt(line.atMs - previous)})  ${line.msg}${extra ? `  [${extra.slice(0, 160)}]` : ''}`,
    );
    previous = line.atMs;
  }
}

// ---------------------------------------------------------------------------------------
// 3. first touches

interface Touch {
  id: string;
  question: string;
}

interface TouchResult {
  latencies: Float64Array;
  acked: number;
  errors: number;
  seconds: number;
}

async function touchAll(
  url: string,
  token: string,
  touches: readonly Touch[],
  concurrency: number,
  label: string,
): Promise<TouchResult> {
  const latencies: number[] = [];
  let acked = 0;
  let errors = 0;
  const started = performance.now();
  await runPool(
    touches.length,
    concurrency,
    async (i) => {
      const { id, question } = touches[i] as Touch;
      const t0 = performance.now();
      try {
        const response = await fetch(
          `${url}/supervisors/${id}/questions/${encodeURIComponent(question)}/answer`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ value: true }),
          },
        );
        const body = (await response.json()) as { version?: unknown; duplicate?: unknown };
        latencies.push(performance.now() - t0);
        // Acked: committed (a version) and applied, not a duplicate of an earlier answer.
        if (response.ok && typeof body.version === 'number' && body.duplicate === false) acked++;
        else if (++errors <= 5) {
          console.error(`  ${label}: ${id} answered ${response.status} ${JSON.stringify(body)}`);
        }
      } catch (error) {
        if (++errors <= 5) console.error(`  ${label}: ${id} failed: ${(error as Error).message}`);
      }
    },
    (done) => {
      if (done % Math.max(1, Math.floor(touches.length / 4)) === 0) {
        console.log(`  ${label}: ${fmt(done)} / ${fmt(touches.length)} answered`);
      }
    },
  );
  return {
    latencies: Float64Array.from(latencies).sort(),
    acked,
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}

function describeTouches(result: TouchResult): string {
  const s = result.latencies;
  return `p50 ${fmt(quantile(s, 0.5), 2)}  p99 ${fmt(quantile(s, 0.99), 2)}  max ${fmt(s.at(-1) ?? Number.NaN, 2)} ms; ${fmt(result.acked)} acked, ${result.errors} errors, ${fmt(result.seconds, 1)} s`;
}

// ---------------------------------------------------------------------------------------
// 4. every pending question listable

interface Listing {
  questions: number;
  byQuestion: Map<string, number>;
  pages: number;
  seconds: number;
  /** Supervisor ids strictly ascending across all pages (no entry seen twice). */
  ordered: boolean;
}

async function listQuestions(url: string, token: string): Promise<Listing> {
  const started = performance.now();
  const byQuestion = new Map<string, number>();
  let questions = 0;
  let pages = 0;
  let afterId: string | null = null;
  let last = '';
  let ordered = true;
  for (;;) {
    const query = `limit=${QUESTION_PAGE}${afterId ? `&afterId=${afterId}` : ''}`;
    const response = await fetch(`${url}/questions?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok)
      throw new Error(`GET /questions: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as {
      questions: { supervisorId: string; question: { id: string } }[];
      nextAfterId: string | null;
    };
    pages++;
    for (const entry of page.questions) {
      questions++;
      byQuestion.set(entry.question.id, (byQuestion.get(entry.question.id) ?? 0) + 1);
      if (entry.supervisorId < last) ordered = false;
      last = entry.supervisorId;
    }
    if (pages % 100 === 0) console.log(`  list: ${fmt(pages)} pages, ${fmt(questions)} questions`);
    if (page.nextAfterId === null) break;
    if (afterId !== null && page.nextAfterId <= afterId) ordered = false;
    afterId = page.nextAfterId;
  }
  return { questions, byQuestion, pages, seconds: (performance.now() - started) / 1000, ordered };
}

// ---------------------------------------------------------------------------------------
// 5. summary

function target(goal: string, measured: string, met: boolean, missedBy: string): string {
  return `  ${goal.padEnd(44)} ${measured.padStart(12)}   ${met ? 'met' : `MISSED by ${missedBy}`}`;
}

async function stopServe(started: Started): Promise<number> {
  const t0 = performance.now();
  started.child.kill('SIGTERM');
  const code = await started.exited;
  console.log(
    `  serve: stopped by SIGTERM in ${fmt((performance.now() - t0) / 1000, 1)} s (exit ${code})`,
  );
  return code ?? -1;
}

// ---------------------------------------------------------------------------------------

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
    serveChild?.kill('SIGKILL');
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
      seeded = await seed(db);
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
    const listedFirst = listing.byQuestion.get(seeded.firstQuestionId) ?? 0;
    const listedNext = listing.byQuestion.get(seeded.nextQuestionId) ?? 0;
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

    const p99 = quantile(sequential.latencies, 0.99);
    const p99Concurrent = quantile(concurrent.latencies, 0.99);
    const allListed = listing.questions === expected && listing.ordered;
    const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
    const touched = 2 * config.touches;
    console.log(
      [
        '',
        '=== Steward: a million stored supervisors ===',
        `date ${new Date().toISOString()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ${serverVersion}`,
        `load average at the bench's start ${load.map((l) => fmt(l, 2)).join(' ')}, at its end ${loadavg()
          .map((l) => fmt(l, 2))
          .join(' ')}`,
        `seed:    ${fmt(config.total)} rows (${fmt(waitingCount)} waiting_for_user on '${seeded.firstQuestionId}', ${fmt(finishedCount)} completed) in ${fmt(seeded.seconds, 1)} s; supervisor_states ${mib(seeded.tableBytes)}`,
        `start:   ${fmt(startS, 2)} s from spawn to "Steward listening on"; VmRSS then ${mib(server.rssBytes)} (peak ${mib(server.peakRssBytes)}); restored ${server.restored}, failed ${server.failed}, deferred ${server.deferred}`,
        `touch:   sequential, ${fmt(config.touches)} first touches (answer '${seeded.firstQuestionId}' over HTTP): ${describeTouches(sequential)}`,
        `         ${CONCURRENT_TOUCHES} concurrent, ${fmt(config.touches)} other first touches: ${describeTouches(concurrent)}`,
        `         baseline: the next answer ('${seeded.nextQuestionId}') of the ${fmt(config.touches)} sequentially touched, in memory now: ${describeTouches(warm)}`,
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
  } finally {
    const child = serveChild;
    if (child) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    await drop();
  }
}

main(databaseUrl).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
