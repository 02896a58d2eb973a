// The demo keeps exactly its own supervisors running (issue 11): it replaces only those of
// its own that finish, starts only the missing ones when a runtime starts again, and logs
// the questions a restore asks again like new ones.
import { pino } from 'pino';
import { expect, it, onTestFinished } from 'vitest';
import { DEMO_OWNER, type DemoOptions, demoStepTask, startDemo } from '../src/demo.ts';
import { type Logger, silentLogger } from '../src/logger.ts';
import { ReferenceInput, referenceSupervisor } from '../src/machines/referenceSupervisor.ts';
import { createMachineRegistry } from '../src/machines/registry.ts';
import type { Database } from '../src/persistence/database.ts';
import type { SupervisorHost } from '../src/runtime/supervisorHost.ts';
import { describeEachEngine } from './helpers/engines.ts';
import { testHost } from './helpers/host.ts';

interface LogLine {
  msg: string;
  supervisorId?: string;
  running?: number;
  starting?: number;
}

/** A logger whose lines the test reads, debug included. */
function capturedLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** What `steward serve` registers for the demo, with steps of `stepMs`. */
function demoRegistry(stepMs: number) {
  const registry = createMachineRegistry();
  registry.register({
    id: 'reference',
    version: 1,
    machine: referenceSupervisor,
    input: ReferenceInput,
  });
  registry.registerTask('step', demoStepTask(stepMs));
  return registry;
}

/** The demo's supervisors as stored: unfinished and finished. */
async function demoCounts(db: Database): Promise<{ unfinished: number; finished: number }> {
  const { rows } = await db.query<{ unfinished: number; finished: number }>(
    `SELECT count(*) FILTER (WHERE state NOT IN ('completed', 'failed', 'cancelled'))::int AS unfinished,
            count(*) FILTER (WHERE state IN ('completed', 'failed', 'cancelled'))::int AS finished
       FROM supervisor_states WHERE owner = $1 AND machine_id = 'reference'`,
    [DEMO_OWNER],
  );
  return rows[0] as { unfinished: number; finished: number };
}

/** The demo's count that followed the finish of `supervisorId`, once it has been logged. */
function countAfterFinishOf(lines: LogLine[], supervisorId: string): LogLine | undefined {
  const finished = lines.findIndex(
    (l) => l.msg === 'demo supervisor finished' && l.supervisorId === supervisorId,
  );
  if (finished < 0) return undefined;
  return lines.slice(finished).find((l) => l.msg === 'demo supervisors counted');
}

/** Long enough for a cold start on a loaded machine; a passing poll returns at once. */
const POLL = { timeout: 10_000 };

const askedToApprove = (lines: LogLine[]) =>
  [
    ...new Set(
      lines
        .filter((l) => l.msg.startsWith('question asked: Approve the plan'))
        .map((l) => l.supervisorId),
    ),
  ].sort();

describeEachEngine('demo', (engine) => {
  async function freshDatabase(): Promise<Database> {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    return db;
  }

  /** A runtime on `db`, as one `steward serve` process; stopped when the test ends. */
  function runtime(db: Database, stepMs: number): SupervisorHost {
    const host = testHost(db, { registry: demoRegistry(stepMs) });
    onTestFinished(async () => {
      await host.stop();
    });
    return host;
  }

  function demo(options: DemoOptions): () => void {
    const stop = startDemo(options);
    onTestFinished(stop);
    return stop;
  }

  const pendingIds = async (host: SupervisorHost, id: string) =>
    (await host.get(id)).pendingQuestions.map((q) => q.id);

  it('starts no supervisor when one that is not its own finishes', async () => {
    const db = await freshDatabase();
    // Steps that outlast the test: the demo's supervisors do not finish on their own.
    const host = runtime(db, 60_000);
    const { log, lines } = capturedLog();
    demo({ host, log, answerDelayMs: 5 });
    await expect.poll(() => demoCounts(db), POLL).toEqual({ unfinished: 3, finished: 0 });

    const other = await host.spawn(
      'reference',
      { goal: 'not the demo', steps: [] },
      { owner: 'alice' },
    );
    await host.cancel(other.id);
    // One of its own finishing after it: the count that follows comes after whatever the
    // demo made of the other supervisor's finish.
    const [own] = await host.list({ owner: DEMO_OWNER, machineId: 'reference', limit: 1 });
    await host.cancel(own?.id as string);
    await expect
      .poll(() => countAfterFinishOf(lines, own?.id as string), POLL)
      .toMatchObject({ running: 2, starting: 1 });
    await expect.poll(() => demoCounts(db), POLL).toEqual({ unfinished: 3, finished: 1 });
  });

  it('replaces each of its supervisors that finishes, keeping exactly three unfinished', async () => {
    const db = await freshDatabase();
    const host = runtime(db, 5);
    // Unfinished demo supervisors by the committed stream: a first commit (no previous
    // state) adds one, a finish takes one away; `most` is the highest it ever was.
    let live = 0;
    let most = 0;
    const unsubscribe = host.subscribe((change) => {
      if (change.owner !== DEMO_OWNER) return;
      if (change.type === 'status.changed' && change.previousState === null) {
        live += 1;
        most = Math.max(most, live);
      }
      if (change.type === 'supervisor.finished') live -= 1;
    });
    onTestFinished(unsubscribe);
    demo({ host, log: silentLogger, answerDelayMs: 5 });

    await expect
      .poll(() => demoCounts(db), { timeout: 20_000 })
      .toSatisfy(({ unfinished, finished }) => unfinished === 3 && finished >= 4);
    expect(most).toBe(3);
    const finished = await host.list({
      owner: DEMO_OWNER,
      state: ['completed', 'failed', 'cancelled'],
    });
    // Finished by the stand-in's answers: approved, a step retried, the result accepted.
    expect(new Set(finished.map((s) => s.state))).toEqual(new Set(['completed']));
  });

  it('starts none when its three are stored unfinished, and logs and answers the questions their restore asks again', async () => {
    const db = await freshDatabase();
    const first = runtime(db, 60_000);
    // No stand-in: each waits at its plan question when this "process" ends.
    const stopFirst = startDemo({ host: first, log: silentLogger });
    await expect.poll(() => demoCounts(db), POLL).toEqual({ unfinished: 3, finished: 0 });
    stopFirst();
    await first.stop();
    const ids = (await first.list({ owner: DEMO_OWNER })).map((s) => s.id).sort();

    // The next process restores, then starts the demo (as `steward serve` does).
    const host = runtime(db, 60_000);
    expect(await host.restoreAll('restart')).toEqual({ restored: 3, failed: 0, deferred: 0 });
    const { log, lines } = capturedLog();
    demo({ host, log, answerDelayMs: 5 });
    await expect
      .poll(() => lines.find((l) => l.msg === 'demo supervisors counted'), POLL)
      .toMatchObject({ running: 3, starting: 0 });
    await expect.poll(() => askedToApprove(lines), POLL).toEqual(ids);
    for (const id of ids) {
      await expect.poll(() => pendingIds(host, id), POLL).not.toContain('approve-plan');
    }
    expect(await demoCounts(db)).toEqual({ unfinished: 3, finished: 0 });
  });

  it('logs and answers the questions a restore asks again when it starts before the restore', async () => {
    const db = await freshDatabase();
    const first = runtime(db, 60_000);
    const stopFirst = startDemo({ host: first, log: silentLogger });
    await expect.poll(() => demoCounts(db), POLL).toEqual({ unfinished: 3, finished: 0 });
    stopFirst();
    await first.stop();
    const ids = (await first.list({ owner: DEMO_OWNER })).map((s) => s.id).sort();

    const host = runtime(db, 60_000);
    const { log, lines } = capturedLog();
    demo({ host, log, answerDelayMs: 5 });
    await host.restoreAll('restart');
    await expect.poll(() => askedToApprove(lines), POLL).toEqual(ids);
    for (const id of ids) {
      await expect.poll(() => pendingIds(host, id), POLL).not.toContain('approve-plan');
    }
    expect(lines.find((l) => l.msg === 'demo supervisors counted')).toMatchObject({
      running: 3,
      starting: 0,
    });
    expect(await demoCounts(db)).toEqual({ unfinished: 3, finished: 0 });
  });
});
