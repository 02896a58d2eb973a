// The benchmark: (a) what PostgreSQL alone does with single-row upserts, (b) how many
// durable answers per second Steward commits on the same server, and with what latency,
// next to two baselines, the naive XState + pg loop a user would write and the server's
// batch limit (100-row upserts from one client), (c) how much heap an idle hosted
// supervisor costs. See bench/README.md.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '../src/logger.ts';
import { createMachineRegistry } from '../src/machines/registry.ts';
import type { Database } from '../src/persistence/database.ts';
import { migrate } from '../src/persistence/migrator.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { type BatchLimitResult, runBatchLimit } from './batchLimit.ts';
import { benchMachineDefinition } from './benchMachine.ts';
import { type CpuPerUnit, cpuPerUnit, readCpu } from './cpuTimes.ts';
import { NAIVE_POOL_MAX, type NaiveLoopResult, runNaiveLoop } from './naiveLoop.ts';
import { choosePgbench, type PgbenchChoice, parsePgbenchOutput, runProcess } from './pgbench.ts';
import {
  type CommitStats,
  countingStore,
  createDatabase,
  describeUrl,
  dropDatabase,
  emptyCommitStats,
  envNumber,
  fmt,
  IdleQueue,
  type MemoryResult,
  quantile,
  RESULT_PREFIX,
  runPool,
  sleep,
} from './support.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const TARGET_RATIO = 2;
/** Steward ÷ naive the issue asks for, by answers in flight. */
const NAIVE_TARGETS: Readonly<Record<number, number>> = Object.freeze({ 64: 2, 512: 3 });
/** Issue 14: p99 at 64 in flight; Node's and PostgreSQL's CPU per durable answer. */
const TARGET_P99_MS = 15;
const TARGET_CPU_US = 50;
const TARGET_BYTES = 10 * 1024;
/** Issue 14: a passivated supervisor costs at most this much heap; an active idle one 6 KB. */
const TARGET_PASSIVATED_BYTES = 400;
const TARGET_IDLE_BYTES = 6 * 1024;

const LOOP_SAMPLE_MS = 5;

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error(
    'The benchmark needs a PostgreSQL server: set DATABASE_URL, e.g.\n' +
      '  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench\n' +
      'It creates its own database on that server (steward_bench_<pid>) and drops it at the end.',
  );
  process.exit(1);
}

const config = {
  seconds: envNumber('BENCH_SECONDS', 10),
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2),
  clients: Math.round(envNumber('BENCH_CLIENTS', 32)),
  supervisors: Math.round(envNumber('BENCH_SUPERVISORS', 1_000)),
  inFlight: Math.round(envNumber('BENCH_IN_FLIGHT', 64)),
  idleSupervisors: Math.round(envNumber('BENCH_IDLE_SUPERVISORS', 10_000)),
  poolMax: Math.round(envNumber('BENCH_POOL_MAX', 8)),
  /** Commits in flight at once (the writer's maxConcurrentBatches). */
  concurrentBatches: Math.round(envNumber('BENCH_CONCURRENT_BATCHES', 2)),
  spawnConcurrency: Math.round(envNumber('BENCH_SPAWN_CONCURRENCY', 64)),
  /** `auto` uses pgbench when it is installed, `node` forces the Node client loop. */
  baseline: process.env.BENCH_BASELINE ?? 'auto',
};
if (config.inFlight > config.supervisors) {
  console.error('BENCH_IN_FLIGHT must not exceed BENCH_SUPERVISORS: one answer per supervisor');
  process.exit(1);
}

const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench' });

// ---------------------------------------------------------------------------------------
// (a) baseline

const UPSERT_ROWS = 10_000;

/** A JSON document of 1,024 bytes, shaped like a small supervisor snapshot. */
function kilobyteDocument(): string {
  const doc = {
    status: 'active',
    value: 'asking',
    context: {
      activity: 'waiting for an answer',
      progress: 42,
      phase: 'bench',
      notes: 'x'.repeat(700),
    },
    historyValue: {},
    children: {},
  };
  let json = JSON.stringify(doc);
  // Pad to exactly 1,024 characters so the row size does not depend on the fields above.
  doc.context.notes += 'x'.repeat(Math.max(0, 1024 - json.length));
  json = JSON.stringify(doc);
  return json;
}

interface BaselineResult {
  tool: string;
  tps: number;
  transactions: number | null;
}

async function prepareUpsertTable(db: Database, doc: string): Promise<void> {
  await db.exec('CREATE TABLE bench_upsert (id integer PRIMARY KEY, doc jsonb NOT NULL)');
  // Rows exist up front, so every upsert is an update, as every Steward answer is.
  await db.query(
    'INSERT INTO bench_upsert (id, doc) SELECT g, $1::jsonb FROM generate_series(1, $2) AS g',
    [doc, UPSERT_ROWS],
  );
  await db.exec('VACUUM ANALYZE bench_upsert');
}

async function pgbenchBaseline(pgbench: string, url: string, doc: string): Promise<BaselineResult> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-bench-'));
  try {
    const script = join(dir, 'upsert.sql');
    await writeFile(
      script,
      `\\set id random(1, ${UPSERT_ROWS})\n` +
        `INSERT INTO bench_upsert (id, doc) VALUES (:id, '${doc}') ` +
        'ON CONFLICT (id) DO UPDATE SET doc = excluded.doc;\n',
    );
    const seconds = Math.max(1, Math.round(config.seconds));
    const args = ['-n', '-c', String(config.clients), '-j', '2', '-T', String(seconds)];
    console.log(`  (a) ${pgbench} ${args.join(' ')} -f upsert.sql (${seconds} s)`);
    const report = parsePgbenchOutput(await runProcess(pgbench, [...args, '-f', script, url]));
    return {
      tool: `pgbench (${config.clients} clients, 2 threads, simple protocol)`,
      tps: report.tps,
      transactions: report.transactions,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function nodeBaseline(url: string, doc: string, why: string): Promise<BaselineResult> {
  const clients = await Promise.all(
    Array.from({ length: config.clients }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  console.log(`  (a) ${config.clients} pg clients from Node for ${config.seconds} s`);
  let transactions = 0;
  const started = performance.now();
  const deadline = started + config.seconds * 1000;
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline) {
          const id = 1 + Math.floor(Math.random() * UPSERT_ROWS);
          await client.query(
            'INSERT INTO bench_upsert (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
            [id, doc],
          );
          transactions++;
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    tool: `Node pg clients (${config.clients}; ${why})`,
    tps: transactions / seconds,
    transactions,
  };
}

async function runBaseline(
  db: Database,
  url: string,
  doc: string,
  { pgbench, why }: PgbenchChoice,
): Promise<BaselineResult> {
  await prepareUpsertTable(db, doc);
  const result = pgbench
    ? await pgbenchBaseline(pgbench, url, doc)
    : await nodeBaseline(url, doc, why);
  console.log(`  (a) ${fmt(result.tps, 1)} upserts/s with ${result.tool}`);
  return result;
}

// ---------------------------------------------------------------------------------------
// (b) durable answers

interface AnswerResult {
  answersPerSecond: number;
  answers: number;
  seconds: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  duplicates: number;
  spawnSeconds: number;
  batches: CommitStats;
  /** CPU per durable answer in the window, Node and PostgreSQL (from /proc). */
  cpu: CpuPerUnit;
  /** How late the event loop ran a due timer, 99th percentile, ms. */
  loopDelayP99: number;
  journalCheck: string;
}

async function runAnswers(db: Database): Promise<AnswerResult> {
  const stats = emptyCommitStats();
  const registry = createMachineRegistry();
  registry.register(benchMachineDefinition);
  const host = createSupervisorHost({
    store: countingStore(createSupervisorStore(db), stats),
    registry,
    heartbeatIntervalMs: 0,
    log,
    writer: { maxConcurrentBatches: config.concurrentBatches },
  });

  // Learned the way a client would: from the committed-changes stream, which tells of a
  // question only once the snapshot asking it is durable.
  const pendingQuestion = new Map<string, string>();
  host.subscribe((change) => {
    if (change.type === 'question.asked') {
      pendingQuestion.set(change.supervisorId, change.question.id);
    }
  });

  const idle = new IdleQueue(config.supervisors);
  const spawnStarted = performance.now();
  const step = config.supervisors >= 2_000 ? 1_000 : Math.max(1, Math.ceil(config.supervisors / 4));
  await runPool(
    config.supervisors,
    config.spawnConcurrency,
    async () => {
      const { id } = await host.spawn('bench', undefined, { owner: 'bench' });
      idle.put(id);
    },
    (done) => {
      if (done % step === 0 || done === config.supervisors) {
        console.log(`  (b) spawned ${fmt(done)} / ${fmt(config.supervisors)} supervisors`);
      }
    },
  );
  const spawnSeconds = (performance.now() - spawnStarted) / 1000;

  const latencies: number[] = [];
  let measuring = false;
  let stopping = false;
  let measured = 0;
  let acknowledged = 0;
  let errors = 0;
  let duplicates = 0;
  let sinceTick = 0;

  const worker = async (): Promise<void> => {
    while (!stopping) {
      const id = idle.take();
      const questionId = pendingQuestion.get(id);
      try {
        if (!questionId) throw new Error(`no pending question known for supervisor ${id}`);
        const started = performance.now();
        const result = await host.answer(id, questionId, true);
        const latency = performance.now() - started;
        acknowledged++;
        sinceTick++;
        if (result.duplicate) duplicates++;
        if (measuring) {
          measured++;
          latencies.push(latency);
        }
      } catch (error) {
        errors++;
        if (errors <= 5) console.error(`  (b) answer failed: ${(error as Error).message}`);
        // Without a pause a persistent failure would spin this loop without yielding.
        await sleep(10);
      } finally {
        idle.put(id);
      }
    }
  };

  console.log(
    `  (b) ${config.inFlight} answers in flight: ${config.warmupSeconds} s warm-up, then ${config.seconds} s measured`,
  );
  const workers = Array.from({ length: config.inFlight }, worker);
  await sleep(config.warmupSeconds * 1000);

  const statsBefore = { ...stats };
  stats.largestBatch = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  const cpuBefore = await readCpu(db);
  const windowStart = performance.now();
  measuring = true;
  sinceTick = 0;
  const ticker = setInterval(() => {
    const elapsed = (performance.now() - windowStart) / 1000;
    console.log(`  (b) t=${fmt(elapsed, 0)} s: ${fmt(sinceTick)} answers/s`);
    sinceTick = 0;
  }, 1000);
  await sleep(config.seconds * 1000);
  measuring = false;
  const windowSeconds = (performance.now() - windowStart) / 1000;
  clearInterval(ticker);
  const cpu = cpuPerUnit(cpuBefore, await readCpu(db), measured, windowSeconds);
  loopDelay.disable();
  const windowStats: CommitStats = {
    batches: stats.batches - statsBefore.batches,
    rows: stats.rows - statsBefore.rows,
    events: stats.events - statsBefore.events,
    commitMs: stats.commitMs - statsBefore.commitMs,
    largestBatch: stats.largestBatch,
  };

  stopping = true;
  await Promise.all(workers);
  await host.stop();

  // Every acknowledged answer must be in the journal exactly once: a cheap proof that the
  // figure counts durable answers, not acknowledgements of something lost.
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*) AS count FROM supervisor_events WHERE kind = 'question_answered'`,
  );
  const journaled = Number(rows[0]?.count ?? 0);
  const journalCheck =
    journaled === acknowledged - duplicates
      ? `ok (${fmt(journaled)} answers acknowledged, ${fmt(journaled)} journaled)`
      : `MISMATCH: ${fmt(acknowledged - duplicates)} acknowledged, ${fmt(journaled)} journaled`;

  const sorted = Float64Array.from(latencies).sort();
  return {
    answersPerSecond: measured / windowSeconds,
    answers: measured,
    seconds: windowSeconds,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    errors,
    duplicates,
    spawnSeconds,
    batches: windowStats,
    cpu,
    // Node records the whole interval between samples, the sampling period included.
    loopDelayP99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_SAMPLE_MS),
    journalCheck,
  };
}

// ---------------------------------------------------------------------------------------
// (c) memory, in a child process

function runMemoryChild(url: string, passivateAfterMs = 0): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    console.log(
      `  (c${passivateAfterMs > 0 ? "'" : ''}) child process: node --expose-gc --import tsx bench/memory.ts (${fmt(config.idleSupervisors)} supervisors${passivateAfterMs > 0 ? `, passivated after ${passivateAfterMs} ms` : ''})`,
    );
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench', 'memory.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          BENCH_CHILD_DATABASE_URL: url,
          BENCH_IDLE_SUPERVISORS: String(config.idleSupervisors),
          BENCH_POOL_MAX: String(config.poolMax),
          BENCH_SPAWN_CONCURRENCY: String(config.spawnConcurrency),
          ...(passivateAfterMs > 0 ? { BENCH_PASSIVATE_AFTER_MS: String(passivateAfterMs) } : {}),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let result: MemoryResult | undefined;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(RESULT_PREFIX)) {
          result = JSON.parse(line.slice(RESULT_PREFIX.length)) as MemoryResult;
        } else {
          console.log(line);
        }
        newline = buffered.indexOf('\n');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`bench/memory.ts exited with ${code} without a result`));
    });
  });
}

// ---------------------------------------------------------------------------------------
// summary

function target(goal: string, measured: string, met: boolean, missedBy: string): string {
  return `  ${goal.padEnd(40)} ${measured.padStart(10)}   ${met ? 'met' : `MISSED by ${missedBy}`}`;
}

/** The target line for Steward ÷ naive, or why there is none at this many in flight. */
function naiveTarget(naiveRatio: number): string {
  const goal = NAIVE_TARGETS[config.inFlight];
  if (goal === undefined) {
    const set = Object.entries(NAIVE_TARGETS)
      .map(([inFlight, ratio]) => `>= ${ratio} at ${inFlight}`)
      .join(', ');
    return `  b/naive: no target at ${config.inFlight} in flight (${set} in flight)`;
  }
  return target(
    `b/naive >= ${goal} (${config.inFlight} in flight)`,
    `${fmt(naiveRatio, 2)}x`,
    naiveRatio >= goal,
    `${fmt(goal - naiveRatio, 2)}x (${fmt((1 - naiveRatio / goal) * 100, 0)}% short)`,
  );
}

function printSummary(
  server: string,
  baseline: BaselineResult,
  batchLimit: BatchLimitResult,
  answers: AnswerResult,
  naive: NaiveLoopResult,
  memory: MemoryResult,
  passivated: MemoryResult,
): void {
  const ratio = answers.answersPerSecond / baseline.tps;
  const naiveRatio = answers.answersPerSecond / naive.answersPerSecond;
  const limitRatio = answers.answersPerSecond / batchLimit.rowsPerSecond;
  const b = answers.batches;
  const lines = [
    '',
    '=== Steward benchmark summary ===',
    `date ${new Date().toISOString()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`,
    `server ${server}`,
    '',
    `(a) baseline: ${fmt(baseline.tps, 1)} upserts/s of a 1 KB jsonb row, ${baseline.tool}, ${fmt(config.seconds)} s${baseline.transactions === null ? '' : ` (${fmt(baseline.transactions)} transactions)`}`,
    `(b) Steward:  ${fmt(answers.answersPerSecond, 1)} durable answers/s, ${config.inFlight} in flight over ${fmt(config.supervisors)} supervisors (spawned in ${fmt(answers.spawnSeconds, 1)} s), ${fmt(answers.seconds, 1)} s (${fmt(answers.answers)} answers)`,
    `    latency ms: p50 ${fmt(answers.p50, 2)}  p90 ${fmt(answers.p90, 2)}  p99 ${fmt(answers.p99, 2)}  max ${fmt(answers.max, 2)}`,
    `    writer: ${fmt(b.batches)} commits, ${fmt(b.rows / Math.max(1, b.batches), 1)} supervisors/commit (largest ${fmt(b.largestBatch)}), ${fmt(b.events / Math.max(1, b.rows), 1)} journal rows/supervisor, ${fmt(b.commitMs / Math.max(1, b.batches), 2)} ms/commit`,
    `    node: ${fmt(answers.cpu.nodeShare * 100, 0)}% of one core, event-loop delay p99 ${fmt(answers.loopDelayP99, 1)} ms; errors ${answers.errors}, duplicates ${answers.duplicates}`,
    `    cpu per answer: node ${fmt(answers.cpu.nodeUs, 1)} us, postgres ${fmt(answers.cpu.postgresUs, 1)} us (${answers.cpu.backends} backends + walwriter, checkpointer, bgwriter)`,
    `    journal check: ${answers.journalCheck}`,
    `naive:        ${fmt(naive.answersPerSecond, 1)} durable answers/s, XState + pg (one upsert per transition, pool of ${NAIVE_POOL_MAX}, serialised per actor), ${config.inFlight} in flight over ${fmt(config.supervisors)} actors, ${fmt(naive.seconds, 1)} s (${fmt(naive.answers)} answers)`,
    `    latency ms: p50 ${fmt(naive.p50, 2)}  p90 ${fmt(naive.p90, 2)}  p99 ${fmt(naive.p99, 2)}  max ${fmt(naive.max, 2)}`,
    `    node: ${fmt(naive.cpu.nodeShare * 100, 0)}% of one core; errors ${naive.errors}; row check: ${naive.check}`,
    `    cpu per answer: node ${fmt(naive.cpu.nodeUs, 1)} us, postgres ${fmt(naive.cpu.postgresUs, 1)} us (${naive.cpu.backends} backends + walwriter, checkpointer, bgwriter)`,
    `batch limit:  ${fmt(batchLimit.rowsPerSecond, 1)} rows/s (${fmt(batchLimit.tps, 1)} tps of one 100-row upsert of 1 KB jsonb rows), ${batchLimit.tool}, ${fmt(config.seconds)} s${batchLimit.transactions === null ? '' : ` (${fmt(batchLimit.transactions)} transactions)`}`,
    `ratios:       b/a ${fmt(ratio, 2)}x   b/naive ${fmt(naiveRatio, 2)}x   b/batch-limit ${fmt(limitRatio, 2)}x`,
    `(c) memory:   ${fmt(memory.bytesPerSupervisor, 0)} heap bytes per idle supervisor (${fmt(memory.supervisors)} spawned in ${fmt(memory.spawnSeconds, 1)} s; heapUsed ${fmt(memory.heapBefore / 2 ** 20, 1)} -> ${fmt(memory.heapAfter / 2 ** 20, 1)} MiB, rss ${fmt(memory.rssBefore / 2 ** 20, 0)} -> ${fmt(memory.rssAfter / 2 ** 20, 0)} MiB)`,
    `(c') passivated: ${fmt(passivated.bytesPerSupervisor, 0)} heap bytes per passivated supervisor (${fmt(passivated.passivated)} passivated; heapUsed ${fmt(passivated.heapBefore / 2 ** 20, 1)} -> ${fmt(passivated.heapAfter / 2 ** 20, 1)} MiB); c/c' ${fmt(memory.bytesPerSupervisor / passivated.bytesPerSupervisor, 1)}x`,
    '',
    'targets:',
    target(
      `b/a >= ${TARGET_RATIO}`,
      `${fmt(ratio, 2)}x`,
      ratio >= TARGET_RATIO,
      `${fmt(TARGET_RATIO - ratio, 2)}x (${fmt((1 - ratio / TARGET_RATIO) * 100, 0)}% short)`,
    ),
    naiveTarget(naiveRatio),
    target(
      `p99 <= ${TARGET_P99_MS} ms`,
      `${fmt(answers.p99, 2)} ms`,
      answers.p99 <= TARGET_P99_MS,
      `${fmt(answers.p99 - TARGET_P99_MS, 2)} ms (${fmt((answers.p99 / TARGET_P99_MS - 1) * 100, 0)}% over)`,
    ),
    target(
      `node CPU <= ${TARGET_CPU_US} us per answer`,
      `${fmt(answers.cpu.nodeUs, 1)} us`,
      answers.cpu.nodeUs <= TARGET_CPU_US,
      `${fmt(answers.cpu.nodeUs - TARGET_CPU_US, 1)} us`,
    ),
    target(
      `postgres CPU <= ${TARGET_CPU_US} us per answer`,
      `${fmt(answers.cpu.postgresUs, 1)} us`,
      answers.cpu.postgresUs <= TARGET_CPU_US,
      `${fmt(answers.cpu.postgresUs - TARGET_CPU_US, 1)} us`,
    ),
    target(
      `<= 10 KiB (${fmt(TARGET_BYTES)} B) per idle supervisor`,
      `${fmt(memory.bytesPerSupervisor, 0)} B`,
      memory.bytesPerSupervisor <= TARGET_BYTES,
      `${fmt(memory.bytesPerSupervisor - TARGET_BYTES, 0)} B (${fmt((memory.bytesPerSupervisor / TARGET_BYTES - 1) * 100, 0)}% over)`,
    ),
    target(
      `<= 6 KiB (${fmt(TARGET_IDLE_BYTES)} B) per idle supervisor`,
      `${fmt(memory.bytesPerSupervisor, 0)} B`,
      memory.bytesPerSupervisor <= TARGET_IDLE_BYTES,
      `${fmt(memory.bytesPerSupervisor - TARGET_IDLE_BYTES, 0)} B (${fmt((memory.bytesPerSupervisor / TARGET_IDLE_BYTES - 1) * 100, 0)}% over)`,
    ),
    target(
      `<= ${TARGET_PASSIVATED_BYTES} B per passivated supervisor`,
      `${fmt(passivated.bytesPerSupervisor, 0)} B`,
      passivated.bytesPerSupervisor <= TARGET_PASSIVATED_BYTES,
      `${fmt(passivated.bytesPerSupervisor - TARGET_PASSIVATED_BYTES, 0)} B (${fmt((passivated.bytesPerSupervisor / TARGET_PASSIVATED_BYTES - 1) * 100, 0)}% over)`,
    ),
  ];
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------------------------

async function main(url: string): Promise<void> {
  const name = `steward_bench_${process.pid}`;
  console.log(
    `Steward benchmark on ${describeUrl(url)}: database ${name}; ` +
      `BENCH_SECONDS=${config.seconds} BENCH_WARMUP_SECONDS=${config.warmupSeconds} ` +
      `BENCH_CLIENTS=${config.clients} BENCH_SUPERVISORS=${config.supervisors} ` +
      `BENCH_IN_FLIGHT=${config.inFlight} BENCH_IDLE_SUPERVISORS=${config.idleSupervisors} ` +
      `BENCH_POOL_MAX=${config.poolMax}`,
  );
  const benchUrl = await createDatabase(url, name);
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await dropDatabase(url, name);
  };
  // Ctrl-C must not leave a database behind on the server.
  process.once('SIGINT', () => {
    console.error('\ninterrupted: dropping the bench database');
    drop().finally(() => process.exit(130));
  });

  try {
    const db = await openPgDatabase({ connectionString: benchUrl, max: config.poolMax, log });
    let server: string;
    let baseline: BaselineResult;
    let batchLimit: BatchLimitResult;
    let answers: AnswerResult;
    let naive: NaiveLoopResult;
    try {
      await migrate(db);
      const { rows } = await db.query<{ version: string; sync: string }>(
        `SELECT current_setting('server_version') AS version,
                current_setting('synchronous_commit') AS sync`,
      );
      server = `PostgreSQL ${rows[0]?.version}, synchronous_commit=${rows[0]?.sync}`;
      console.log(`  migrated; ${server}`);
      const doc = kilobyteDocument();
      const client = choosePgbench(config.baseline);
      baseline = await runBaseline(db, benchUrl, doc, client);
      batchLimit = await runBatchLimit({
        url: benchUrl,
        doc,
        tableRows: UPSERT_ROWS,
        seconds: config.seconds,
        client,
      });
      console.log(
        `  (batch limit) ${fmt(batchLimit.rowsPerSecond, 1)} rows/s with ${batchLimit.tool}`,
      );
      answers = await runAnswers(db);
      console.log(
        `  (b) ${fmt(answers.answersPerSecond, 1)} answers/s, p50 ${fmt(answers.p50, 2)} ms, p99 ${fmt(answers.p99, 2)} ms`,
      );
      naive = await runNaiveLoop({
        url: benchUrl,
        supervisors: config.supervisors,
        inFlight: config.inFlight,
        warmupSeconds: config.warmupSeconds,
        seconds: config.seconds,
        spawnConcurrency: config.spawnConcurrency,
      });
      console.log(
        `  (naive) ${fmt(naive.answersPerSecond, 1)} answers/s, p50 ${fmt(naive.p50, 2)} ms, p99 ${fmt(naive.p99, 2)} ms`,
      );
    } finally {
      await db.close();
    }
    const memory = await runMemoryChild(benchUrl);
    console.log(`  (c) ${fmt(memory.bytesPerSupervisor, 0)} heap bytes per idle supervisor`);
    const passivated = await runMemoryChild(benchUrl, 1_000);
    console.log(
      `  (c') ${fmt(passivated.bytesPerSupervisor, 0)} heap bytes per passivated supervisor`,
    );
    printSummary(server, baseline, batchLimit, answers, naive, memory, passivated);
  } finally {
    await drop();
  }
}

main(databaseUrl).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
