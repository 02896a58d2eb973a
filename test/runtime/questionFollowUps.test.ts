// Reminders and escalations of pending questions (issue 15): each comes once, journaled in the
// commit that drops its timer from the row, and asks the question again on the committed
// changes; across restores (its time passed while no runtime ran, or it came before), once.
import { expect, it } from 'vitest';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { CommittedChange } from '../../src/runtime/commit/committedChanges.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { spawnStored, testHost, useHost } from '../helpers/host.ts';

const eventually = <T>(read: () => T | Promise<T>, timeout = 10_000) =>
  expect.poll(read, { timeout, interval: 20 });

type Db = Parameters<typeof listEvents>[0];

/** The journal kinds of a supervisor's question entries, in order. */
async function questionKinds(db: Db, id: string) {
  return (await listEvents(db, id)).map((e) => e.kind).filter((k) => k.startsWith('question_'));
}

/** The follow-ups the committed changes asked again, in order. */
function followUpsOf(changes: CommittedChange[], id: string) {
  return changes.flatMap((c) =>
    c.type === 'question.asked' && c.supervisorId === id && c.followUp ? [c.followUp] : [],
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEachEngine('question reminders and escalations', (engine) => {
  const fixture = useHost(engine);

  it('reminds, then escalates, each once, journaled with the commit that drops its timer', async () => {
    const changes: CommittedChange[] = [];
    const arrived: number[] = [];
    const unsubscribe = fixture.host.subscribe((change) => {
      changes.push(change);
      if (change.type === 'question.asked' && change.followUp) arrived.push(Date.now());
    });
    const { id } = await fixture.host.spawn('follow-up', {
      remindAfterMs: 300,
      escalateAfterMs: 700,
    });
    const asked = await fixture.host.get(id);
    const question = asked.pendingQuestions[0];
    expect(question).toMatchObject({
      id: 'review',
      audience: { kind: 'role', role: 'ops' },
      escalation: { audience: { kind: 'owner' } },
    });
    const askedAt = Date.parse(question?.askedAt as string);
    expect(Date.parse(question?.remindAt as string) - askedAt).toBe(300);
    expect(Date.parse(question?.escalation?.at as string) - askedAt).toBe(700);
    // Stored with the question, so a restart finds them.
    expect(asked.timers).toHaveLength(2);

    await eventually(() => questionKinds(fixture.db, id)).toEqual([
      'question_asked',
      'question_reminded',
      'question_escalated',
    ]);
    await sleep(300);
    const journal = await listEvents(fixture.db, id);
    const reminded = journal.find((e) => e.kind === 'question_reminded');
    const escalated = journal.find((e) => e.kind === 'question_escalated');
    expect(reminded?.payload).toEqual({ questionId: 'review', remindAt: question?.remindAt });
    expect(escalated?.payload).toEqual({
      questionId: 'review',
      at: question?.escalation?.at,
      audience: { kind: 'owner' },
    });
    // Neither before its time (the timers keep the wall clock), nor much after it.
    expect(arrived[0]).toBeGreaterThanOrEqual(askedAt + 300);
    expect(arrived[1]).toBeGreaterThanOrEqual(askedAt + 700);
    expect((arrived[1] as number) - askedAt).toBeLessThan(700 + 1_000);
    const row = await fixture.host.get(id);
    // Each commit that journaled one dropped its timer: nothing of them is left to fire.
    expect(row.timers).toEqual([]);
    expect(row.version).toBe(3);
    expect(row.pendingQuestions.map((q) => q.id)).toEqual(['review']);
    expect(followUpsOf(changes, id)).toEqual(['reminder', 'escalation']);
    expect(await questionKinds(fixture.db, id)).toHaveLength(3);
    unsubscribe();
  });

  it('cancels the follow-ups of a question answered before them', async () => {
    const { id } = await fixture.host.spawn('follow-up', {
      remindAfterMs: 400,
      escalateAfterMs: 500,
    });
    await fixture.host.answer(id, 'review', true);
    const row = await fixture.host.get(id);
    expect(row).toMatchObject({ stateValue: 'reviewed', pendingQuestions: [], timers: [] });
    await sleep(700);
    expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_answered']);
  });

  it('fails a supervisor whose question has a follow-up delay that is not a positive number', async () => {
    const { id } = await fixture.host.spawn('follow-up', { remindAfterMs: 0, escalateAfterMs: 1 });
    const row = await fixture.host.get(id);
    expect(row.state).toBe('failed');
    expect(row.errorMessage).toContain('remindAfterMs must be a positive number of ms, not 0');
  });

  it('gives a follow-up whose time passed while no runtime ran at the restore, and never again', async () => {
    const id = await spawnStored(fixture.db, 'follow-up', {
      remindAfterMs: 150,
      escalateAfterMs: 60_000,
    });
    await sleep(250);
    const restarted = testHost(fixture.db);
    try {
      await restarted.restoreAll('restart');
      await eventually(() => questionKinds(fixture.db, id)).toEqual([
        'question_asked',
        'question_reminded',
      ]);
      // Only the escalation is still to come.
      await eventually(async () => (await restarted.get(id)).timers.length).toBe(1);
    } finally {
      await restarted.stop();
    }
    // Restored once more, the reminder's time long past without its timer: not again.
    const again = testHost(fixture.db);
    try {
      await again.restoreAll('restart');
      await sleep(300);
      expect(await questionKinds(fixture.db, id)).toEqual(['question_asked', 'question_reminded']);
      expect((await again.get(id)).timers).toHaveLength(1);
    } finally {
      await again.stop();
    }
  });

  it('wakes a lazily deferred supervisor for its escalation', async () => {
    const id = await spawnStored(fixture.db, 'follow-up', {
      remindAfterMs: 60_000,
      escalateAfterMs: 1_500,
    });
    // A lookahead shorter than the escalation: the restart leaves it in its row.
    const lazy = testHost(fixture.db, { lazyRestore: true, lazyRestoreLookaheadMs: 500 });
    try {
      const { deferred } = await lazy.restoreAll('restart');
      expect(deferred).toBeGreaterThanOrEqual(1);
      expect(lazy.local(id)).toBeUndefined();
      await eventually(() => questionKinds(fixture.db, id), 8_000).toEqual([
        'question_asked',
        'question_escalated',
      ]);
    } finally {
      await lazy.stop();
    }
  });
});

describeEachEngine('question follow-ups of passivated supervisors', (engine) => {
  const fixture = useHost(engine, { passivateAfterMs: 100 });

  it('wakes a passivated supervisor at its reminder and gives it once, on time', async () => {
    const changes: CommittedChange[] = [];
    const unsubscribe = fixture.host.subscribe((change) => changes.push(change));
    const { id } = await fixture.host.spawn('follow-up', {
      remindAfterMs: 1_500,
      escalateAfterMs: 60_000,
    });
    const remindAt = Date.parse((await fixture.host.get(id)).pendingQuestions[0]?.remindAt ?? '');
    await eventually(() => fixture.host.local(id), 1_200).toBeUndefined();
    expect(Date.now(), 'passivated before its reminder').toBeLessThan(remindAt);

    await eventually(() => questionKinds(fixture.db, id), 5_000).toEqual([
      'question_asked',
      'question_reminded',
    ]);
    expect(Date.now() - remindAt, 'at its time, not at a later touch').toBeLessThan(1_000);
    expect(followUpsOf(changes, id)).toEqual(['reminder']);
    // Only the escalation's timer is left in the row.
    expect((await fixture.host.get(id)).timers).toHaveLength(1);
    unsubscribe();
  });
});
