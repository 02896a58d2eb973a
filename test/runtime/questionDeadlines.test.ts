// Question deadlines are enforced, durably (issue 15): a pending question whose deadline
// passes is resolved `expired` in one commit, through the delayed events that survive
// restarts; an answer racing it either wins or is refused, never both.
import { expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import type { DeadlineContext } from '../helpers/deadlineMachine.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { spawnStored, testHost, useHost } from '../helpers/host.ts';

const eventually = <T>(read: () => T | Promise<T>, timeout = 10_000) =>
  expect.poll(read, { timeout, interval: 20 });

/** The journal kinds of a supervisor's question entries, in order. */
async function questionKinds(db: Parameters<typeof listEvents>[0], id: string) {
  return (await listEvents(db, id)).map((e) => e.kind).filter((k) => k.startsWith('question_'));
}

/** The indexed `next_timer_at` column, which wakes deferred supervisors for their timers. */
async function nextTimerAt(db: Parameters<typeof listEvents>[0], id: string) {
  const { rows } = await db.query<{ at: string | null }>(
    `SELECT to_json(next_timer_at)#>>'{}' AS at FROM supervisor_states WHERE id = $1`,
    [id],
  );
  return rows[0]?.at == null ? null : new Date(rows[0].at).toISOString();
}

/** What an answer came to: the ack, or the code it was refused with. */
async function answerOutcome(host: SupervisorHost, id: string, value: unknown = true) {
  try {
    const { duplicate } = await host.answer(id, 'sign-off', value);
    return duplicate ? 'duplicate' : 'applied';
  } catch (error) {
    if (isStewardError(error)) return error.code;
    throw error;
  }
}

/** Blocks the event loop until `deadline` has passed: no timer can fire meanwhile. */
function spinUntil(deadline: string): void {
  while (Date.now() <= Date.parse(deadline)) {}
}

const stored = (snapshot: unknown) => snapshot as { context: DeadlineContext };

describeEachEngine('question deadlines', (engine) => {
  const fixture = useHost(engine);

  it('expires a pending question at its deadline in one commit, and refuses a late answer', async () => {
    const { id } = await fixture.host.spawn('deadline', { expiresInMs: 300 });
    const asked = await fixture.host.get(id);
    const deadline = asked.pendingQuestions[0]?.deadline as string;
    // The deadline is a stored timer like any `after`: restarts and wake-ups find it.
    expect(asked.timers).toHaveLength(1);
    const dueAt = Date.parse((await nextTimerAt(fixture.db, id)) as string);
    expect(
      dueAt - Date.parse(deadline),
      'the timer is due at the deadline (to the ms it was armed in)',
    ).toBeGreaterThanOrEqual(0);
    expect(dueAt - Date.parse(deadline)).toBeLessThan(50);

    await eventually(async () => (await fixture.host.get(id)).stateValue).toBe('escalated');
    const row = await fixture.host.get(id);
    expect(row.pendingQuestions).toEqual([]);
    expect(row.timers).toEqual([]);
    expect(await nextTimerAt(fixture.db, id)).toBeNull();
    expect(row.version).toBe(2);
    expect(stored(row.snapshot).context.lapsed).toMatchObject({ questionId: 'sign-off', deadline });
    expect(Date.parse(stored(row.snapshot).context.lapsed?.at as string)).toBeGreaterThanOrEqual(
      Date.parse(deadline),
    );
    const expired = (await listEvents(fixture.db, id)).filter((e) => e.kind === 'question_expired');
    expect(expired).toEqual([
      expect.objectContaining({ version: 2, payload: { questionId: 'sign-off', deadline } }),
    ]);

    expect(await answerOutcome(fixture.host, id)).toBe('ERR_QUESTION_EXPIRED');
    expect((await fixture.host.get(id)).version).toBe(2);
    expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_expired']);
  });

  it('refuses a late answer as expired, not terminated, when the expiry finished the supervisor', async () => {
    const { id } = await fixture.host.spawn('deadline', { expiresInMs: 200, onExpiry: 'fail' });
    await eventually(async () => (await fixture.host.get(id)).state).toBe('failed');
    expect((await fixture.host.get(id)).errorMessage).toBe('nobody signed off in time');
    expect(await answerOutcome(fixture.host, id)).toBe('ERR_QUESTION_EXPIRED');
    expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_expired']);
  });

  it('lets an answer taken before the deadline win: the deadline passes without an expiry', async () => {
    const { id } = await fixture.host.spawn('deadline', { expiresInMs: 300 });
    expect(await answerOutcome(fixture.host, id)).toBe('applied');
    const row = await fixture.host.get(id);
    expect(row).toMatchObject({ stateValue: 'signed', timers: [] });
    expect(await nextTimerAt(fixture.db, id)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_answered']);
  });

  it('refuses an answer that arrives after the deadline before its timer fired, expiring it first', async () => {
    const { id } = await fixture.host.spawn('deadline', { expiresInMs: 200 });
    const deadline = (await fixture.host.get(id)).pendingQuestions[0]?.deadline as string;
    spinUntil(deadline);
    // The timer is due but could not fire: the answer reaches the supervisor first.
    const outcome = answerOutcome(fixture.host, id);
    expect(await outcome).toBe('ERR_QUESTION_EXPIRED');
    await eventually(async () => (await fixture.host.get(id)).stateValue).toBe('escalated');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_expired']);
  });

  it('settles every answer racing its deadline one way: applied and never expired, or refused and expired once', async () => {
    const spawned = await Promise.all(
      Array.from({ length: 30 }, () => fixture.host.spawn('deadline', { expiresInMs: 2_000 })),
    );
    const outcomes = await Promise.all(
      spawned.map(async ({ id }, i) => {
        const deadline = Date.parse(
          (await fixture.host.get(id)).pendingQuestions[0]?.deadline as string,
        );
        // From 200 ms before the deadline to 32 ms after it, 8 ms apart, the race; and one
        // well before it and one well after it, so that a loaded machine (whose spawns and
        // reads took most of the 2 s) still has both outcomes to check.
        const at = i === 0 ? deadline - 1_500 : i === 29 ? deadline + 300 : deadline - 200 + i * 8;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
        return { id, outcome: await answerOutcome(fixture.host, id) };
      }),
    );
    // Both kinds happened, or the race was not run.
    expect(new Set(outcomes.map((o) => o.outcome))).toEqual(
      new Set(['applied', 'ERR_QUESTION_EXPIRED']),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const { id, outcome } of outcomes) {
      const kinds = await questionKinds(fixture.db, id);
      const row = await fixture.host.get(id);
      if (outcome === 'applied') {
        expect(kinds, id).toEqual(['question_asked', 'question_answered']);
        expect(row.stateValue).toBe('signed');
      } else {
        expect(kinds, id).toEqual(['question_asked', 'question_expired']);
        expect(row.stateValue).toBe('escalated');
      }
    }
  });

  it('holds an expiry the state cannot take until it can, refusing answers meanwhile', async () => {
    const { id } = await fixture.host.spawn('deadline', { expiresInMs: 200 });
    await fixture.host.pause(id);
    const deadline = (await fixture.host.get(id)).pendingQuestions[0]?.deadline as string;
    await new Promise((resolve) => setTimeout(resolve, Date.parse(deadline) - Date.now() + 100));
    expect(await answerOutcome(fixture.host, id)).toBe('ERR_QUESTION_EXPIRED');
    const paused = await fixture.host.get(id);
    expect(paused).toMatchObject({ state: 'paused', version: 2 });
    expect(paused.pendingQuestions.map((q) => q.id)).toEqual(['sign-off']);

    await fixture.host.resume(id);
    await eventually(async () => (await fixture.host.get(id)).stateValue).toBe('escalated');
    expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_expired']);
  });

  it('expires a question whose deadline passed while no runtime ran, when it restores', async () => {
    const id = await spawnStored(fixture.db, 'deadline', { expiresInMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const restarted = testHost(fixture.db);
    try {
      await restarted.restoreAll('restart');
      await eventually(async () => (await restarted.get(id)).stateValue).toBe('escalated');
      expect(await answerOutcome(restarted, id)).toBe('ERR_QUESTION_EXPIRED');
      expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_expired']);
    } finally {
      await restarted.stop();
    }
  });

  it('refuses the first touch of a lazily deferred supervisor past its deadline, expiring it', async () => {
    const id = await spawnStored(fixture.db, 'deadline', { expiresInMs: 60_000 });
    // A lookahead shorter than the deadline: the restart leaves it in its row.
    const lazy = testHost(fixture.db, { lazyRestore: true, lazyRestoreLookaheadMs: 1_000 });
    try {
      const { deferred } = await lazy.restoreAll('restart');
      expect(deferred).toBeGreaterThanOrEqual(1);
      expect(lazy.local(id)).toBeUndefined();
      // Its deadline moved into the past while it sat in its row (the clock of this test).
      await fixture.db.query(
        `UPDATE supervisor_states
         SET snapshot = jsonb_set(snapshot, '{context,pendingQuestions,0,deadline}', to_jsonb($2::text))
         WHERE id = $1`,
        [id, new Date(Date.now() - 1_000).toISOString()],
      );
      expect(await answerOutcome(lazy, id)).toBe('ERR_QUESTION_EXPIRED');
      await eventually(async () => (await lazy.get(id)).stateValue).toBe('escalated');
      expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_expired']);
    } finally {
      await lazy.stop();
    }
  });
});

describeEachEngine('question deadlines of passivated supervisors', (engine) => {
  const fixture = useHost(engine, { passivateAfterMs: 100 });

  it('wakes a passivated supervisor at its deadline and expires the question on time', async () => {
    const { id } = await fixture.host.spawn('deadline', { expiresInMs: 1_500 });
    const deadline = (await fixture.host.get(id)).pendingQuestions[0]?.deadline as string;
    await eventually(() => fixture.host.local(id), 1_200).toBeUndefined();
    expect(fixture.host.passivated()).toBe(1);
    expect(Date.now()).toBeLessThan(Date.parse(deadline));

    await eventually(async () => (await fixture.host.get(id)).stateValue, 5_000).toBe('escalated');
    const row = await fixture.host.get(id);
    const lapsedAt = Date.parse(stored(row.snapshot).context.lapsed?.at as string);
    expect(lapsedAt).toBeGreaterThanOrEqual(Date.parse(deadline));
    expect(lapsedAt - Date.parse(deadline), 'expired on time, not at a later touch').toBeLessThan(
      1_000,
    );
    expect(row).toMatchObject({ pendingQuestions: [], restorationCount: 0 });
    expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_expired']);
    expect(await answerOutcome(fixture.host, id)).toBe('ERR_QUESTION_EXPIRED');
  });
});
