// A question's reminder and escalation survive a crash (issue 15): `steward serve` (lazy
// restore, its default) is SIGKILLed before the reminder, started again after it (the
// reminder comes at that start, the escalation later), then killed and started once more:
// each was journaled exactly once.
import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import {
  crashTestData,
  type FaultRuntime,
  killRuntime,
  startFaultRuntime,
} from '../helpers/faultRuntime.ts';

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

const followUps = (d: Detail) =>
  d.history
    .filter((e) => e.kind === 'question_reminded' || e.kind === 'question_escalated')
    .map((e) => e.kind);

const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

describeEachEngine('question follow-ups across a SIGKILL', (engine) => {
  it('reminds and escalates once each, whichever process was running at their time', async () => {
    const where = await crashTestData(engine);
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
    await killRuntime(first);
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
    await killRuntime(second);

    // Once more: both are in the row, nothing gives them again.
    const third = await start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await detail(third, id);
    expect(after.supervisor.pendingQuestions.map((q) => q.id)).toEqual(['review']);
    expect(followUps(after)).toEqual(['question_reminded', 'question_escalated']);
    await killRuntime(third);
  }, 120_000);
});
