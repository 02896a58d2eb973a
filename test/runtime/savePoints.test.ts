// The seed's save points, each checked in the database: task spawned, question asked,
// question answered, phase changed (with its checkpoint), heartbeat.
import { beforeAll, expect, it } from 'vitest';
import { listCheckpoints, listEvents } from '../../src/persistence/journalRepository.ts';
import type { CommittedChange } from '../../src/runtime/commit/committedChanges.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { useHost } from '../helpers/host.ts';

describeEachEngine('save points', (engine) => {
  const fixture = useHost(engine);
  const changes: CommittedChange[] = [];
  beforeAll(() => {
    fixture.host.subscribe((change) => changes.push(change));
  });

  const journal = async (id: string) =>
    (await listEvents(fixture.db, id)).map((e) => [e.version, e.kind, e.payload] as const);

  it('persists a spawned supervisor with its question asked and its first phase checkpointed', async () => {
    const { id, version } = await fixture.host.spawn(
      'reference',
      { goal: 'ship', steps: ['build', 'test'] },
      { owner: 'alice' },
    );
    expect(version).toBe(1);
    const row = await fixture.host.get(id);
    expect(row).toMatchObject({
      machineId: 'reference',
      machineVersion: 1,
      owner: 'alice',
      version: 1,
      state: 'waiting_for_user',
      stateValue: 'active.awaitingApproval',
      currentActivity: 'waiting for plan approval',
      progress: 10,
      phase: 'plan',
      errorMessage: null,
      spawnedTaskIds: [],
      xstateVersion: '5.33.3',
    });
    expect(row.pendingQuestions.map((q) => [q.id, q.answer.kind])).toEqual([
      ['approve-plan', 'confirm'],
    ]);
    expect(row.snapshot).toEqual(fixture.host.local(id)?.snapshot);
    expect(await journal(id)).toEqual([
      [1, 'command', { command: 'spawn', by: null, machineVersion: 1 }],
      [1, 'question_asked', { questionId: 'approve-plan', prompt: expect.any(String) }],
      [1, 'phase_changed', { from: null, to: 'plan' }],
    ]);
    expect((await listCheckpoints(fixture.db, id)).map((c) => [c.version, c.phase])).toEqual([
      [1, 'plan'],
    ]);
  });

  it('records an answer, the tasks it spawned and the phase change in one commit', async () => {
    const { id } = await fixture.host.spawn('reference', { goal: 'g', steps: ['a', 'b', 'c'] });
    const result = await fixture.host.answer(id, 'approve-plan', true, { answeredBy: 'bob' });
    expect(result).toEqual({ version: 2, duplicate: false });
    const row = await fixture.host.get(id);
    expect(row).toMatchObject({ version: 2, state: 'waiting_for_tasks', phase: 'execute' });
    expect(row.pendingQuestions).toEqual([]);
    expect(row.spawnedTaskIds).toHaveLength(3);
    const entries = await journal(id);
    expect(entries.filter(([v]) => v === 2)).toEqual([
      [
        2,
        'question_answered',
        { questionId: 'approve-plan', value: true, answeredBy: 'bob', by: null },
      ],
      ...row.spawnedTaskIds.map((taskId, i) => [
        2,
        'task_spawned',
        { taskId, name: 'step', input: { step: ['a', 'b', 'c'][i] } },
      ]),
      [2, 'phase_changed', { from: 'plan', to: 'execute' }],
    ]);
    expect((await listCheckpoints(fixture.db, id)).map((c) => [c.version, c.phase])).toEqual([
      [2, 'execute'],
      [1, 'plan'],
    ]);
    const checkpoint = (await listCheckpoints(fixture.db, id))[0];
    expect(checkpoint?.snapshot).toEqual(row.snapshot);
  });

  it('journals finished tasks and emits committed changes only after their commit', async () => {
    const { id } = await fixture.host.spawn('reference', { goal: 'g', steps: ['only'] });
    await fixture.host.answer(id, 'approve-plan', true);
    const [taskId] = (await fixture.host.get(id)).spawnedTaskIds;
    const seen: Array<{ change: CommittedChange; stored: Promise<number> }> = [];
    const unsubscribe = fixture.host.subscribe((change) => {
      if (change.supervisorId !== id) return;
      // Read the row at the moment of the notification: it must already hold this version.
      seen.push({ change, stored: fixture.host.get(id).then((row) => row.version) });
    });
    const { version } = await fixture.host.send(id, {
      type: 'task.completed',
      taskId,
      result: 'ok',
    });
    await fixture.host.answer(id, 'final-approval', true);
    unsubscribe();
    for (const { change, stored } of seen) {
      expect(await stored).toBeGreaterThanOrEqual(change.version);
    }
    expect(seen.map((s) => s.change.type)).toEqual([
      'question.asked',
      'status.changed',
      'question.resolved',
      'status.changed',
      'supervisor.finished',
    ]);
    expect((await journal(id)).filter(([v]) => v === version)).toContainEqual([
      version,
      'task_finished',
      { taskId, name: 'step', status: 'succeeded', attempt: 1 },
    ]);
    expect(await fixture.host.get(id)).toMatchObject({ state: 'completed', progress: 100 });
  });

  it('streams question.asked with the question and question.resolved as answered', async () => {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'g', steps: ['x'] },
      { owner: 'carol' },
    );
    await fixture.host.answer(id, 'approve-plan', true);
    const mine = changes.filter((c) => c.supervisorId === id);
    expect(mine[0]).toMatchObject({
      type: 'question.asked',
      version: 1,
      owner: 'carol',
      question: { id: 'approve-plan' },
    });
    expect(mine).toContainEqual(
      expect.objectContaining({
        type: 'question.resolved',
        questionId: 'approve-plan',
        resolution: 'answered',
        version: 2,
      }),
    );
  });

  it('stores pending delayed transitions as absolute deadlines, and drops them once left', async () => {
    const before = Date.now();
    const { id } = await fixture.host.spawn('patient', undefined);
    const [timer] = (await fixture.host.get(id)).timers as Array<{
      id: string;
      dueAt: number;
      sourcePath: string[];
      targetPath: string[];
    }>;
    expect(timer).toMatchObject({
      id: 'xstate.after.60000.patient.waiting',
      sourcePath: [],
      targetPath: [],
    });
    expect(timer?.dueAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(timer?.dueAt).toBeLessThanOrEqual(Date.now() + 60_000);
    await fixture.host.send(id, { type: 'hurry' });
    expect((await fixture.host.get(id)).timers).toEqual([]);
  });

  it('updates only last_heartbeat at a heartbeat, not the snapshot or its version', async () => {
    const { id } = await fixture.host.spawn('reference', { goal: 'g', steps: ['x'] });
    const before = await fixture.host.get(id);
    expect(await fixture.host.heartbeat()).toBeGreaterThanOrEqual(1);
    const after = await fixture.host.get(id);
    expect(after.lastHeartbeat).toBeInstanceOf(Date);
    expect(after.version).toBe(before.version);
    expect(after.snapshot).toEqual(before.snapshot);
  });
});
