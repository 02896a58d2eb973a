// A question's deadline survives a crash (issue 15): `steward serve` (lazy restore, its
// default) is SIGKILLed before the deadline and started again after it; the question
// expires at that start, once, and stays expired across one more crash.
import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import {
  crashTestData,
  type FaultRuntime,
  killRuntime,
  startFaultRuntime,
} from '../helpers/faultRuntime.ts';

interface Detail {
  supervisor: { stateValue: string; pendingQuestions: Array<{ id: string; deadline?: string }> };
  history: Array<{ kind: string; version: number | null; payload: Record<string, unknown> }>;
}

async function detail(runtime: FaultRuntime, id: string): Promise<Detail> {
  const { status, body } = await runtime.api(`/supervisors/${id}`);
  expect(status).toBe(200);
  return body as unknown as Detail;
}

const expiries = (d: Detail) => d.history.filter((e) => e.kind === 'question_expired');

describeEachEngine('a question deadline across a SIGKILL', (engine) => {
  it('expires the question at the start after its deadline, exactly once', async () => {
    const where = await crashTestData(engine);
    const start = () => startFaultRuntime({ ...where, args: ['--restore', 'lazy'] });

    const first = await start();
    const created = await first.api('/supervisors', {
      machineId: 'deadline',
      input: { expiresInMs: 3_000 },
    });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const asked = await detail(first, id);
    const deadline = asked.supervisor.pendingQuestions[0]?.deadline as string;
    await killRuntime(first);
    expect(Date.now(), 'killed before the deadline').toBeLessThan(Date.parse(deadline));

    await new Promise((resolve) => setTimeout(resolve, Date.parse(deadline) - Date.now() + 200));
    const second = await start();
    await expect
      .poll(async () => (await detail(second, id)).supervisor.stateValue, { timeout: 15_000 })
      .toBe('escalated');
    const expired = await detail(second, id);
    expect(expired.supervisor.pendingQuestions).toEqual([]);
    expect(expiries(expired)).toEqual([
      expect.objectContaining({ payload: { questionId: 'sign-off', deadline } }),
    ]);
    const late = await second.api(`/supervisors/${id}/questions/sign-off/answer`, { value: true });
    expect(late).toMatchObject({ status: 410, body: { error: { code: 'ERR_QUESTION_EXPIRED' } } });
    await killRuntime(second);

    // Once more: the expiry is in the row, nothing expires it again.
    const third = await start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await detail(third, id);
    expect(after.supervisor.stateValue).toBe('escalated');
    expect(expiries(after)).toHaveLength(1);
    const again = await third.api(`/supervisors/${id}/questions/sign-off/answer`, { value: true });
    expect(again.status).toBe(410);
    await killRuntime(third);
  }, 120_000);
});
