import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { askQuestion, reportActivity, setPhase } from '../../src/machines/actions.ts';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import {
  insertTasks,
  listTasks,
  validateSpawnedTasks,
} from '../../src/persistence/taskRepository.ts';
import type { CommittedChange } from '../../src/runtime/commit/committedChanges.ts';
import { takesNotice } from '../../src/runtime/restore/restoration.ts';
import { validateSnapshot } from '../../src/runtime/restore/snapshotValidation.ts';
import type { SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testHost, useHost } from '../helpers/host.ts';
import { invocations, testRegistry } from '../helpers/testMachines.ts';

/** Keeps every `supervisor.restored` notice it takes, and one question pending meanwhile. */
const listenerMachine = setup({
  types: {
    context: {} as SupervisorContext & { notices: unknown[] },
    events: {} as { type: 'supervisor.restored'; info: unknown },
  },
}).createMachine({
  id: 'listener',
  context: () => ({ ...initialSupervisorContext(), notices: [] }),
  initial: 'listening',
  states: {
    listening: {
      tags: ['waiting_for_user'],
      entry: [
        setPhase('listen'),
        askQuestion({ id: 'go-on', prompt: 'Go on?', answer: { kind: 'confirm' } }),
        reportActivity('listening'),
      ],
      on: {
        'supervisor.restored': {
          actions: assign({ notices: ({ context, event }) => [...context.notices, event.info] }),
        },
      },
    },
  },
});

describeEachEngine('restoration', (engine) => {
  const fixture = useHost(engine);

  /** A second runtime on the same database, as after a restart. */
  function restartedHost(): SupervisorHost {
    return testHost(fixture.db);
  }

  /** Spawns in a runtime of its own and stops it, leaving only the stored state. */
  async function stored(machineId: string, input: unknown, answer?: [string, unknown]) {
    const first = restartedHost();
    const { id } = await first.spawn(machineId, input, { owner: 'olga' });
    if (answer) await first.answer(id, answer[0], answer[1]);
    await first.stop();
    return id;
  }

  it('restores a valid supervisor as it was, asks its questions again and counts the restore', async () => {
    const id = await stored('reference', { goal: 'ship', steps: ['a'] });
    const host = restartedHost();
    const changes: CommittedChange[] = [];
    host.subscribe((change) => changes.push(change));
    const info = await host.restore(id, 'restart');
    expect(info).toMatchObject({
      supervisorId: id,
      source: 'restart',
      restorationCount: 1,
      recovery: 'proceed',
      checkpointVersion: null,
      state: 'waiting_for_user',
      phase: 'plan',
    });
    expect(info.pendingQuestions.map((q) => q.id)).toEqual(['approve-plan']);
    expect(info.contextMessage).toContain('approve-plan');
    expect(info.contextMessage).toContain('restored after a restart (restoration 1)');
    expect(info.history.map((e) => e.kind)).toEqual([
      'command',
      'question_asked',
      'phase_changed',
      'restored',
    ]);
    expect(info.contextMessage).toContain('Recent history:\n- v1 command');
    expect(changes).toContainEqual(
      expect.objectContaining({ type: 'question.asked', supervisorId: id, owner: 'olga' }),
    );
    // It carries on where it was: the answer is version 2, nothing was rewritten on restore.
    expect(await host.answer(id, 'approve-plan', true)).toEqual({ version: 2, duplicate: false });
    expect(await host.get(id)).toMatchObject({
      restorationCount: 1,
      restorationSource: 'restart',
      state: 'waiting_for_tasks',
    });
    await host.stop();
  });

  it('falls back to the newest valid checkpoint when the stored snapshot names a removed state', async () => {
    const id = await stored('reference', { goal: 'g', steps: ['a'] }, ['approve-plan', true]);
    await fixture.db.query(
      `UPDATE supervisor_states SET snapshot = jsonb_set(snapshot, '{value}', '"nowhere"') WHERE id = $1`,
      [id],
    );
    const host = restartedHost();
    const info = await host.restore(id, 'manual');
    expect(info).toMatchObject({
      source: 'checkpoint',
      checkpointVersion: 2,
      recovery: 'restore_from_checkpoint',
    });
    expect(info.violations.map((v) => v.code)).toContain('state_missing');
    expect(info.violations[0]?.message).toContain('nowhere');
    expect(info.contextMessage).toContain('checkpoint of version 2');
    const fallbackWritten = async () =>
      (await listEvents(fixture.db, id)).find((e) => e.kind === 'restoration_fallback');
    await expect.poll(fallbackWritten).toBeDefined();
    const row = await host.get(id);
    expect(row).toMatchObject({
      restorationSource: 'checkpoint',
      stateValue: 'active.executing.running',
    });
    const fallback = await fallbackWritten();
    expect(fallback?.payload).toMatchObject({ from: 'checkpoint', checkpointVersion: 2 });
    await host.stop();
  });

  it('walks back past an invalid newest checkpoint to the next older valid one', async () => {
    const id = await stored('reference', { goal: 'g', steps: ['a'] }, ['approve-plan', true]);
    // The stored state (version 2) and the newest checkpoint (version 2) name a removed
    // state; the checkpoint of version 1 is still valid.
    await fixture.db.query(
      `UPDATE supervisor_states SET snapshot = jsonb_set(snapshot, '{value}', '"nowhere"') WHERE id = $1`,
      [id],
    );
    await fixture.db.query(
      `UPDATE supervisor_checkpoints SET snapshot = jsonb_set(snapshot, '{value}', '"nowhere"')
       WHERE supervisor_id = $1 AND version = 2`,
      [id],
    );
    const host = restartedHost();
    expect((await host.checkpoints(id)).map((c) => c.version)).toEqual([2, 1]);
    const info = await host.restore(id, 'manual');
    expect(info).toMatchObject({
      source: 'checkpoint',
      checkpointVersion: 1,
      recovery: 'restore_from_checkpoint',
      phase: 'plan',
    });
    expect(info.pendingQuestions.map((q) => q.id)).toEqual(['approve-plan']);
    expect(info.contextMessage).toContain('checkpoint of version 1');
    // Written anew from that checkpoint: the row's columns follow once it commits.
    await expect.poll(async () => (await host.get(id)).stateValue).toBe('active.awaitingApproval');
    expect((await host.get(id)).restorationSource).toBe('checkpoint');
    await host.stop();
  });

  it('starts afresh from the stored input, with a warning, when no checkpoint validates', async () => {
    const id = await stored('reference', { goal: 'fresh goal', steps: ['a'] }, [
      'approve-plan',
      true,
    ]);
    await fixture.db.query(
      `UPDATE supervisor_states SET snapshot = jsonb_set(snapshot, '{value}', '"nowhere"') WHERE id = $1`,
      [id],
    );
    await fixture.db.query('DELETE FROM supervisor_checkpoints WHERE supervisor_id = $1', [id]);
    const host = restartedHost();
    const info = await host.restore(id, 'manual');
    expect(info).toMatchObject({
      recovery: 'start_fresh',
      checkpointVersion: null,
      source: 'manual',
    });
    await expect.poll(async () => (await host.get(id)).stateValue).toBe('active.awaitingApproval');
    expect((await host.get(id)).currentActivity).toBe('waiting for plan approval');
    expect(info.contextMessage).toContain('starts afresh');
    await host.stop();
  });

  /**
   * A listener stored by a runtime that stopped, a second runtime to restore it, and the
   * notices its machine has taken there (as committed).
   */
  async function storedListener() {
    const registry = testRegistry();
    registry.register({ id: 'listener', version: 1, machine: listenerMachine });
    const first = testHost(fixture.db, { registry });
    const { id } = await first.spawn('listener', undefined, { owner: 'olga' });
    await first.stop();
    const host = testHost(fixture.db, { registry });
    const notices = async () =>
      ((await host.get(id)).snapshot as { context: { notices: Array<Record<string, unknown>> } })
        .context.notices;
    return { id, host, notices };
  }

  it('tells the machine supervisor.restored with the RestorationInfo and its context message', async () => {
    const { id, host, notices } = await storedListener();
    const info = await host.restore(id, 'restart');
    // Taken by the machine, and committed with its state.
    await expect.poll(notices).toHaveLength(1);
    const [notice] = await notices();
    expect(notice).toMatchObject({
      supervisorId: id,
      source: 'restart',
      restorationCount: 1,
      restoredAt: info.restoredAt.toISOString(),
      state: 'waiting_for_user',
      phase: 'listen',
      checkpointVersion: null,
      recovery: 'proceed',
      pendingQuestions: [expect.objectContaining({ id: 'go-on', prompt: 'Go on?' })],
      contextMessage: info.contextMessage,
    });
    const message = String(notice?.contextMessage).split('\n');
    expect(message[0]).toContain(
      `Supervisor ${id} (listener v1) was restored after a restart (restoration 1)`,
    );
    expect(message.slice(1, 5)).toEqual([
      'Its last saved state was valid and is resumed as it was.',
      'State: "listening"; phase: listen; activity: listening; progress: 0 %.',
      'Pending questions (asked again): go-on — Go on?.',
      'Tasks: no tasks.',
    ]);
    await host.stop();
  });

  it('a restart of all tells a machine that takes the notice, history included', async () => {
    const { id, host, notices } = await storedListener();
    await host.restoreAll('restart');
    await expect.poll(notices).toHaveLength(1);
    const [notice] = await notices();
    expect(notice).toMatchObject({ supervisorId: id, source: 'restart', restorationCount: 1 });
    const message = String(notice?.contextMessage);
    expect(message).toContain('Recent history:');
    expect(message).toMatch(/question_asked/);
    await host.stop();
  });

  it('knows which machines take the restoration notice, in any state or by wildcard', () => {
    const nested = setup({}).createMachine({
      initial: 'a',
      states: { a: { initial: 'b', states: { b: { on: { 'supervisor.restored': {} } } } } },
    });
    const wildcard = setup({}).createMachine({ on: { 'supervisor.*': { actions: () => {} } } });
    const none = setup({}).createMachine({
      initial: 'a',
      states: { a: { on: { 'task.completed': {} } } },
    });
    expect([takesNotice(nested), takesNotice(wildcard), takesNotice(none)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(takesNotice(listenerMachine)).toBe(true);
  });

  it('repairs task rows that disagree with the snapshot while restoring', async () => {
    const first = restartedHost();
    const { id } = await first.spawn('worker', { tasks: [{ name: 'slow' }, { name: 'slow' }] });
    await expect
      .poll(async () => (await listTasks(fixture.db, id)).map((t) => t.status))
      .toEqual(['running', 'running']);
    await first.stop();
    const [lost] = await listTasks(fixture.db, id);
    await fixture.db.query('DELETE FROM supervisor_tasks WHERE id = $1', [lost?.id]);
    const orphan = randomUUID();
    await insertTasks(fixture.db, [
      { id: orphan, supervisorId: id, name: 'slow', status: 'running' },
    ]);
    expect(
      (await validateSpawnedTasks(fixture.db, id)).violations.map((v) => v.code).sort(),
    ).toEqual(['task_row_extra', 'task_row_missing']);
    const host = restartedHost();
    const info = await host.restore(id, 'restart');
    expect(info.recovery).toBe('repair');
    expect(info.violations.map((v) => [v.code, v.action]).sort()).toEqual([
      ['task_row_extra', 'cancel_row'],
      ['task_row_missing', 'write_row'],
    ]);
    const rows = await listTasks(fixture.db, id);
    expect(rows.find((r) => r.id === orphan)?.status).toBe('cancelled');
    expect(rows.some((r) => r.id === lost?.id)).toBe(true);
    // The cut runs were interrupted; their outcomes reach the supervisor, rows follow.
    await expect.poll(async () => (await validateSpawnedTasks(fixture.db, id)).valid).toBe(true);
    await host.stop();
  });

  it('runs invoked work that was running again after a restore, with the same idempotency key', async () => {
    const first = restartedHost();
    const { id } = await first.spawn('invoker', undefined);
    await first.send(id, { type: 'go' });
    await first.stop();
    const host = restartedHost();
    await host.restore(id, 'restart');
    const mine = invocations.filter((key) => key.startsWith(id));
    expect(mine).toEqual([`${id}:charge:1`, `${id}:charge:1`]);
    await host.stop();
  });

  it('names an unregistered child, a removed state and a broken context in validation', () => {
    const definition = testRegistry().get('reference', 1);
    const snapshot = {
      status: 'active',
      value: { active: 'nowhere' },
      historyValue: {},
      children: { ghost: { src: 'no-such-logic', snapshot: {} } },
      context: { progress: 140 },
    };
    const codes = validateSnapshot(definition, snapshot).map((v) => [v.code, v.subject ?? null]);
    expect(codes).toContainEqual(['state_missing', null]);
    expect(codes).toContainEqual(['child_unregistered', 'ghost (no-such-logic)']);
    expect(codes).toContainEqual(['context_invalid', 'progress']);
  });

  it('restores the rest of the fleet when one supervisor cannot be restored at all', async () => {
    const good = await stored('reference', { goal: 'g', steps: ['a'] });
    const orphan = await stored('reference', { goal: 'g', steps: ['a'] });
    await fixture.db.query(`UPDATE supervisor_states SET machine_id = 'retired' WHERE id = $1`, [
      orphan,
    ]);
    const host = restartedHost();
    const result = await host.restoreAll('restart');
    expect(result.failed).toBeGreaterThanOrEqual(1);
    expect(host.local(good)).toBeDefined();
    expect(host.local(orphan)).toBeUndefined();
    await host.stop();
    await fixture.db.query(`DELETE FROM supervisor_states WHERE id = $1`, [orphan]);
  });

  it('fires a pending delayed transition at its original deadline after a restore', async () => {
    const first = restartedHost();
    const spawnedAt = Date.now();
    const { id } = await first.spawn('hasty', undefined);
    await first.stop();
    const host = restartedHost();
    await host.restore(id, 'restart');
    await expect
      .poll(async () => (await host.get(id)).stateValue, { timeout: 3_000, interval: 20 })
      .toBe('late');
    const firedAt = Number((await host.get(id)).currentActivity?.replace('late at ', ''));
    expect(firedAt - spawnedAt).toBeGreaterThanOrEqual(400);
    expect(firedAt - spawnedAt).toBeLessThan(1_500);
    await host.stop();
  });

  it('fires an overdue delayed transition at once after a restore', async () => {
    const first = restartedHost();
    const { id } = await first.spawn('hasty', undefined);
    await first.stop();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const host = restartedHost();
    const restoredAt = Date.now();
    await host.restore(id, 'restart');
    await expect
      .poll(async () => (await host.get(id)).stateValue, { timeout: 3_000, interval: 20 })
      .toBe('late');
    const firedAt = Number((await host.get(id)).currentActivity?.replace('late at ', ''));
    expect(firedAt - restoredAt).toBeLessThan(300);
    await host.stop();
  });
});
