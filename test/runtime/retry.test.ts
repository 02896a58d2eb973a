// Issue 15, item 6: a failed or cancelled supervisor put back to work (redrive), from its
// newest checkpoint or afresh from its input, on a real host and a real database.
import { expect, it } from 'vitest';
import { setup } from 'xstate';
import { setPhase } from '../../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import type { Requester } from '../../src/model/requester.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { CommittedChange } from '../../src/runtime/commit/committedChanges.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { useHost } from '../helpers/host.ts';
import { testRegistry } from '../helpers/testMachines.ts';
import { waitFor } from '../helpers/waitFor.ts';

const BY: Requester = { owner: 'olga', name: 'olga#0', admin: false, requestId: 'req-retry-1' };

/** Enters a phase in every state, the final one too: its last checkpoint is finished. */
const phasedMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as { type: 'advance' } | { type: 'give-up' },
  },
}).createMachine({
  id: 'phased',
  context: () => initialSupervisorContext(),
  initial: 'first',
  states: {
    first: { tags: ['working'], entry: setPhase('first'), on: { advance: 'second' } },
    second: { tags: ['working'], entry: setPhase('second'), on: { 'give-up': 'gaveUp' } },
    gaveUp: { type: 'final', tags: ['failed'], entry: setPhase('gave-up') },
  },
});

function registry() {
  const machines = testRegistry();
  machines.register({ id: 'phased', version: 1, machine: phasedMachine });
  return machines;
}

describeEachEngine('retry', (engine) => {
  const fixture = useHost(engine, { registry: registry() });

  /** A reference supervisor with no steps, failed by rejecting its result at review. */
  async function failedAtReview(): Promise<string> {
    const { host } = fixture;
    const { id } = await host.spawn('reference', { goal: 'ship', steps: [] }, { owner: 'olga' });
    await host.answer(id, 'approve-plan', true);
    await waitFor('the review question', async () => (await host.get(id)).phase === 'review');
    await host.answer(id, 'final-approval', false);
    await waitFor('the failure to commit', async () => (await host.get(id)).state === 'failed');
    return id;
  }

  it('retries a failed supervisor from its newest checkpoint, asks its question again, and takes the answer', async () => {
    const { host, db } = fixture;
    const id = await failedAtReview();
    const before = await host.get(id);
    expect(before.errorMessage).toBe('result rejected at review');
    // The newest checkpoint is the review's: the failure changed no phase.
    const checkpoint = (await host.checkpoints(id))[0];
    expect(checkpoint?.phase).toBe('review');
    const changes: CommittedChange[] = [];
    const unsubscribe = host.subscribe((change) => changes.push(change));

    const info = await host.retry(id, { reason: 'the reviewer changed their mind', by: BY });

    expect(info).toMatchObject({
      source: 'manual',
      recovery: 'restore_from_checkpoint',
      checkpointVersion: checkpoint?.version,
      phase: 'review',
    });
    expect(info.contextMessage).toContain('retried after it was failed');
    const row = await host.get(id);
    expect(row).toMatchObject({
      state: 'waiting_for_user',
      stateValue: 'active.reviewing',
      phase: 'review',
      progress: 90,
      errorMessage: null,
      restorationCount: before.restorationCount + 1,
      restorationSource: 'manual',
    });
    expect(row.version).toBeGreaterThan(before.version);
    expect(row.pendingQuestions.map((q) => q.id)).toEqual(['final-approval']);
    const local = host.local(id)?.snapshot as { context: { error: unknown } } | undefined;
    expect(local?.context.error).toBeNull();
    // Asked again of whoever answers, once the retry committed.
    expect(changes).toContainEqual(
      expect.objectContaining({
        type: 'question.asked',
        supervisorId: id,
        question: expect.objectContaining({ id: 'final-approval' }),
      }),
    );
    unsubscribe();

    const entries = await listEvents(db, id);
    const retried = entries.filter((e) => e.kind === 'retried');
    expect(retried).toEqual([
      expect.objectContaining({
        version: row.version,
        payload: {
          reason: 'the reviewer changed their mind',
          from: 'checkpoint',
          checkpointVersion: checkpoint?.version,
          previousState: 'failed',
          by: BY,
        },
      }),
    ]);
    expect(entries.filter((e) => e.kind === 'restored').at(-1)?.payload).toEqual({
      source: 'manual',
      restorationCount: row.restorationCount,
    });

    await host.answer(id, 'final-approval', true);
    await waitFor('completion', async () => (await host.get(id)).state === 'completed');
  });

  it('retries a cancelled supervisor without a checkpoint afresh from its stored input', async () => {
    const { host, db } = fixture;
    const tasks = [{ name: 'step', input: { step: 'build' } }];
    const { id } = await host.spawn('worker', { tasks }, { owner: 'olga' });
    await host.cancel(id, 'wrong branch');
    await waitFor('the cancel to commit', async () => (await host.get(id)).state === 'cancelled');
    expect(await host.checkpoints(id)).toEqual([]);
    const cancelledTask = (await host.get(id)).spawnedTaskIds[0];

    const info = await host.retry(id, { by: BY });

    expect(info).toMatchObject({ recovery: 'start_fresh', checkpointVersion: null });
    const row = await host.get(id);
    expect(row).toMatchObject({
      state: 'waiting_for_tasks',
      stateValue: 'working',
      restorationSource: 'manual',
      restorationCount: 1,
    });
    // Afresh: the machine ran from its input again, spawning a new task for the spec.
    expect(row.spawnedTaskIds).toHaveLength(1);
    expect(row.spawnedTaskIds[0]).not.toBe(cancelledTask);
    const local = host.local(id)?.snapshot as { context: { specs: unknown } } | undefined;
    expect(local?.context.specs).toEqual(tasks);
    const retried = (await listEvents(db, id)).filter((e) => e.kind === 'retried');
    expect(retried.map((e) => e.payload)).toEqual([
      { reason: null, from: 'fresh', checkpointVersion: null, previousState: 'cancelled', by: BY },
    ]);
    await host.cancel(id);
  });

  it('passes over a checkpoint taken in a final state for the newest one still running', async () => {
    const { host } = fixture;
    const { id } = await host.spawn('phased', {}, { owner: 'olga' });
    await host.send(id, { type: 'advance' });
    await host.send(id, { type: 'give-up' });
    await waitFor('the failure', async () => (await host.get(id)).state === 'failed');
    const [last, running] = await host.checkpoints(id);
    expect([last?.phase, running?.phase]).toEqual(['gave-up', 'second']);

    const info = await host.retry(id);

    expect(info.checkpointVersion).toBe(running?.version);
    expect(await host.get(id)).toMatchObject({
      state: 'working',
      stateValue: 'second',
      phase: 'second',
    });
    await host.send(id, { type: 'give-up' });
  });

  it('refuses to retry a completed supervisor and changes nothing', async () => {
    const { host } = fixture;
    const { id } = await host.spawn('quiz', { count: 1 }, { owner: 'olga' });
    await host.answer(id, 'q0', 1);
    await waitFor('completion', async () => (await host.get(id)).state === 'completed');
    const before = await host.get(id);
    await expect(host.retry(id, { by: BY })).rejects.toMatchObject({
      code: 'ERR_SUPERVISOR_TERMINATED',
    });
    expect(await host.get(id)).toEqual(before);
  });

  it('refuses to retry a supervisor that has not finished and changes nothing', async () => {
    const { host } = fixture;
    const { id } = await host.spawn('reference', { goal: 'ship', steps: [] }, { owner: 'olga' });
    const before = await host.get(id);
    await expect(host.retry(id, { by: BY })).rejects.toMatchObject({
      code: 'ERR_SUPERVISOR_NOT_FINISHED',
      details: { id, state: 'waiting_for_user' },
    });
    await host.pause(id);
    await expect(host.retry(id)).rejects.toMatchObject({ code: 'ERR_SUPERVISOR_NOT_FINISHED' });
    expect(await host.get(id)).toMatchObject({
      restorationCount: before.restorationCount,
      state: 'paused',
    });
  });

  it('lets only one of two retries at once put a supervisor back to work', async () => {
    const { host, db } = fixture;
    const id = await failedAtReview();
    const outcomes = await Promise.allSettled([host.retry(id), host.retry(id)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({
      reason: expect.objectContaining({ code: 'ERR_SUPERVISOR_NOT_FINISHED' }),
    });
    expect((await listEvents(db, id)).filter((e) => e.kind === 'retried')).toHaveLength(1);
    expect((await host.get(id)).state).toBe('waiting_for_user');
  });

  it('refuses to retry an unknown supervisor', async () => {
    await expect(fixture.host.retry('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 'ERR_SUPERVISOR_NOT_FOUND',
    });
  });
});
