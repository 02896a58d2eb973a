// loop mode: bench (b)'s closed loop for a while, run under --cpu-prof; CPU per answer on
// both sides, event-loop delay, time in JSON, HOT, and the window for the summary.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Database } from '../../src/persistence/database.ts';
import { migrate } from '../../src/persistence/migrator.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import {
  createSupervisorStore,
  type SupervisorStore,
} from '../../src/persistence/supervisorStore.ts';
import { backendTimes, cpuSecondsBetween } from '../cpuTimes.ts';
import { fmt, sleep } from '../support.ts';
import { startLoop } from './answerLoop.ts';
import { config, log, profileDir } from './config.ts';
import { jsonTime, timeJson } from './jsonTiming.ts';
import type { Explained, PlanNode } from './planBreakdown.ts';
import { seed, startHost, withOwnDatabase } from './seed.ts';
import { median, pct } from './stats.ts';

const LOOP_SAMPLE_MS = 5;

/**
 * The commit statement's `stored` CTE (the stored versions of the batch's rows) on the
 * table as the loop left it, bloat and all: which plan, how long. Read-only.
 */
async function storedLookupOnLiveTable(db: Database, ids: readonly string[]): Promise<string> {
  const param = JSON.stringify(ids.map((id) => ({ id })));
  const times: number[] = [];
  let shape = '';
  for (let i = 0; i < 7; i++) {
    const { rows } = await db.query<{ 'QUERY PLAN': Explained[] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON)
       WITH incoming AS (SELECT id FROM jsonb_to_recordset($1::jsonb) AS r (id uuid))
       SELECT s.id, s.version FROM supervisor_states s JOIN incoming USING (id)`,
      [param],
    );
    const explained = rows[0]?.['QUERY PLAN'][0];
    if (!explained) continue;
    times.push(explained['Execution Time']);
    const types: string[] = [];
    const walk = (n: PlanNode) => {
      types.push(n['Node Type'] + (n['Relation Name'] ? ` on ${n['Relation Name']}` : ''));
      for (const c of n.Plans ?? []) walk(c);
    };
    walk(explained.Plan);
    shape = types.join(' > ');
  }
  const { rows } = await db.query<{
    pages: string;
    live: string;
    dead: string;
    autovacuums: string;
  }>(
    `SELECT pg_relation_size('supervisor_states') / 8192 AS pages, n_live_tup AS live, n_dead_tup AS dead,
            autovacuum_count + vacuum_count AS autovacuums
     FROM pg_stat_user_tables WHERE relname = 'supervisor_states'`,
  );
  const t = rows[0];
  return (
    `stored-versions lookup of the last batch (${ids.length} ids) on the table after the loop: ${shape}, ` +
    `best ${fmt(Math.min(...times), 3)} ms / median ${fmt(median(times), 3)} ms; table ${t?.pages} pages, ` +
    `${t?.live} live and ${t?.dead} dead tuples (statistics may lag), ${t?.autovacuums} vacuums so far`
  );
}

/** `processStartUs`: when the process started, on the clock of the CPU profile. */
export async function loopMode(url: string, processStartUs: number): Promise<void> {
  await withOwnDatabase(url, async (dbUrl) => {
    const db = await openPgDatabase({ connectionString: dbUrl, max: config.poolMax, log });
    let commits = 0;
    let commitRows = 0;
    let commitMs = 0;
    let measuring = false;
    const turns: number[] = [];
    const turnRows: number[] = [];
    let lastIds: string[] = [];
    let storedLookup = '';
    const timed = (inner: SupervisorStore): SupervisorStore => ({
      ...inner,
      async commit(batch) {
        const started = performance.now();
        const result = await inner.commit(batch);
        const resumed = performance.now();
        if (measuring) {
          lastIds = batch.states.map((w) => w.id);
          commits++;
          commitRows += batch.states.length;
          commitMs += resumed - started;
          // What runs before the next check phase: the writer's settling, the answers'
          // continuations, the next answers' transitions and captures.
          setImmediate(() => {
            turns.push(performance.now() - resumed);
            turnRows.push(batch.states.length);
          });
        }
        return result;
      },
    });
    let answersInWindow = 0;
    let windowSeconds = 0;
    let nodeCpuMs = 0;
    let pgCpu = { seconds: 0, processes: 0 };
    let bgCpu = { seconds: 0, processes: 0 };
    let delay = { p50: 0, p99: 0, max: 0 };
    const window = { startUs: 0, endUs: 0 };
    try {
      await migrate(db);
      if (process.env.PROFILE_TIME_JSON !== '0') timeJson();
      const bench = startHost(timed(createSupervisorStore(db)));
      const ids = await seed(bench, config.supervisors);
      console.log(`seeded ${fmt(ids.length)} supervisors; ${config.inFlight} in flight`);
      const loop = startLoop(bench, ids, config.inFlight);
      await sleep(config.warmupSeconds * 1000);

      const eld = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
      const pgBefore = await backendTimes(db, 'mine');
      const bgBefore = await backendTimes(db, 'background');
      const answeredBefore = loop.answered();
      const cpuBefore = process.cpuUsage();
      window.startUs = Number(process.hrtime.bigint() / 1000n);
      const started = performance.now();
      measuring = true;
      jsonTime.measuring = true;
      eld.enable();
      await sleep(config.seconds * 1000);
      eld.disable();
      measuring = false;
      jsonTime.measuring = false;
      windowSeconds = (performance.now() - started) / 1000;
      window.endUs = Number(process.hrtime.bigint() / 1000n);
      const cpu = process.cpuUsage(cpuBefore);
      answersInWindow = loop.answered() - answeredBefore;
      nodeCpuMs = (cpu.user + cpu.system) / 1000;
      pgCpu = cpuSecondsBetween(pgBefore, await backendTimes(db, 'mine'));
      bgCpu = cpuSecondsBetween(bgBefore, await backendTimes(db, 'background'));
      const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
      delay = { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) };
      await loop.stop();
      console.log(`errors: ${loop.errors()}`);
      storedLookup = await storedLookupOnLiveTable(db, lastIds);
      await bench.host.stop();
    } finally {
      await db.close();
    }
    // The pool's backends have exited and flushed their statistics.
    await sleep(1_000);
    const stats = await openPgDatabase({ connectionString: dbUrl, max: 1, log });
    let hot: { upd: string; hot: string; ins: string; pages: string } | undefined;
    try {
      const { rows } = await stats.query<{ upd: string; hot: string; ins: string; pages: string }>(
        `SELECT s.n_tup_upd AS upd, s.n_tup_hot_upd AS hot,
                (SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'supervisor_events') AS ins,
                pg_relation_size('supervisor_states') / 8192 AS pages
         FROM pg_stat_user_tables s WHERE s.relname = 'supervisor_states'`,
      );
      hot = rows[0];
    } finally {
      await stats.close();
    }

    const dir = profileDir();
    await mkdir(dir, { recursive: true });
    const windowFile = join(dir, `window-${process.pid}.json`);
    await writeFile(windowFile, JSON.stringify({ ...window, processStartUs, pid: process.pid }));

    const perAnswer = (ms: number) => fmt((ms * 1000) / Math.max(1, answersInWindow), 1);
    const sortedTurns = [...turns].sort((a, b) => a - b);
    const q = (p: number) =>
      sortedTurns[Math.min(sortedTurns.length - 1, Math.floor(p * sortedTurns.length))] ?? 0;
    const meanTurnRows = turnRows.reduce((a, b) => a + b, 0) / Math.max(1, turnRows.length);
    const lines = [
      '',
      '=== Node side: closed loop ===',
      `${fmt(answersInWindow)} durable answers in ${fmt(windowSeconds, 1)} s: ${fmt(answersInWindow / windowSeconds, 1)} answers/s, ${config.inFlight} in flight over ${fmt(config.supervisors)} supervisors`,
      `writer: ${fmt(commits)} commits, ${fmt(commitRows / Math.max(1, commits), 1)} rows/commit, ${fmt(commitMs / Math.max(1, commits), 2)} ms/commit (call → resolution)`,
      `Node CPU: ${fmt((nodeCpuMs / 1000 / windowSeconds) * 100, 0)} % of one core, ${perAnswer(nodeCpuMs)} µs per durable answer`,
      `PostgreSQL backends of this database (${pgCpu.processes}): ${fmt((pgCpu.seconds / windowSeconds) * 100, 0)} % of one core, ${perAnswer(pgCpu.seconds * 1000)} µs per durable answer`,
      `PostgreSQL walwriter + checkpointer + bgwriter (shared with other load): ${perAnswer(bgCpu.seconds * 1000)} µs per answer`,
      `JSON (outermost calls, timed): stringify ${fmt(jsonTime.stringifyCalls / Math.max(1, answersInWindow), 1)} calls and ${perAnswer(jsonTime.stringifyMs)} µs per answer, ` +
        `parse ${fmt(jsonTime.parseCalls / Math.max(1, answersInWindow), 1)} calls and ${perAnswer(jsonTime.parseMs)} µs per answer`,
      `event-loop delay: p50 ${fmt(delay.p50, 2)} ms, p99 ${fmt(delay.p99, 2)} ms, max ${fmt(delay.max, 2)} ms`,
      `turn after a commit resolves (until the next check phase): p50 ${fmt(q(0.5), 2)} ms, p99 ${fmt(q(0.99), 2)} ms over ${fmt(turns.length)} commits of ${fmt(meanTurnRows, 1)} rows: ${fmt((q(0.5) * 1000) / Math.max(1, meanTurnRows), 1)} µs per answer at p50`,
      hot
        ? `HOT (whole run, warm-up included): ${fmt(Number(hot.hot))} of ${fmt(Number(hot.upd))} updates of supervisor_states (${pct(Number(hot.hot), Number(hot.upd))}); ${fmt(Number(hot.ins))} journal rows; table ${hot.pages} pages`
        : 'HOT: no statistics',
      storedLookup,
      `window for the profile summary: ${windowFile}`,
    ];
    console.log(lines.join('\n'));
  });
}
