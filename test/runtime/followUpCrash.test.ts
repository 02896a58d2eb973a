// A question's reminder and escalation survive a crash (issue 15): `steward serve` (lazy
// restore, its default) is SIGKILLed before the reminder, started again after it (the
// reminder comes at that start, the escalation later), then killed and started once more:
// each was journaled exactly once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { type FaultRuntime, startFaultRuntime } from '../helpers/faultRuntime.ts';
import { databaseUrlFor } from '../helpers/postgresUrls.ts';

interface Question {
  id: string;
  remindAt?: string;
  escalation?: { at: string };
}
interface Detail {
  supervisor: { pendingQuestions: Question[]; timers: unknown[] };
  history: Array<{ kind: string; version: number | null; payload: Record<string, unknown> }>;
}

async function detail(runtime: FaultRuntime, id: string): Promise<Detail> {
  const { status, body } = await runtime.api(`/supervisors/${id}`);
  expect(status).toBe(200);
  return body as unknown as Detail;
}

async function kill(runtime: FaultRuntime): Promise<void> {
  runtime.child.kill('SIGKILL');
  expect(await runtime.exited).toMatchObject({ signal: 'SIGKILL' });
}

const followUps = (d: Detail) =>
  d.history
    .filter((e) => e.kind === 'question_reminded' || e.kind === 'question_escalated')
    .map((e) => e.kind);

const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

describeEachEngine('question follow-ups across a SIGKILL', (engine) => {
  it('reminds and escalates once each, whichever process was running at their time', async () => {
    let db: Database | undefined;
    const where: { databaseUrl?: string; env?: NodeJS.ProcessEnv } = {};
    if (engine.name === 'postgres') {
      db = await engine.openMigrated();
      const name = db.location.slice(db.location.lastIndexOf('/') + 1);
      where.databaseUrl = databaseUrlFor(process.env.DATABASE_URL as string, name);
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'steward-follow-up-'));
      onTestFinished(() => rm(dir, { recursive: true, force: true }));
      where.env = { STEWARD_DATA_DIR: join(dir, 'data') };
    }
    onTestFinished(() => db?.close());
    const start = () => startFaultRuntime({ ...where, args: ['--restore', 'lazy'] });

    const first = await start();
    const created = await first.api('/supervisors', {
      machineId: 'follow-up',
      input: { remindAfterMs: 2_500, escalateAfterMs: 9_000 },
    });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const [question] = (await detail(first, id)).supervisor.pendingQuestions;
    const remindAt = Date.parse(question?.remindAt as string);
    await kill(first);
    expect(Date.now(), 'killed before the reminder').toBeLessThan(remindAt);

    await sleepUntil(remindAt + 200);
    const second = await start();
    // The reminder is overdue at this start; the escalation comes while it runs, or is
    // overdue too when the start took longer (a loaded machine): once each, either way.
    await expect
      .poll(async () => followUps(await detail(second, id)), { timeout: 15_000 })
      .toEqual(['question_reminded', 'question_escalated']);
    const escalated = await detail(second, id);
    expect(escalated.supervisor.timers).toEqual([]);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(question?.escalation?.at as string));
    await kill(second);

    // Once more: both are in the row, nothing gives them again.
    const third = await start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await detail(third, id);
    expect(after.supervisor.pendingQuestions.map((q) => q.id)).toEqual(['review']);
    expect(followUps(after)).toEqual(['question_reminded', 'question_escalated']);
    await kill(third);
  }, 120_000);
});
