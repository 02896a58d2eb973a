import { expect, it } from 'vitest';
import type { SpawnedTask } from '../../src/machines/tasks.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { listTasks, validateSpawnedTasks } from '../../src/persistence/taskRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { useHost } from '../helpers/host.ts';
import { taskLog } from '../helpers/taskMachines.ts';

describeEachEngine('tasks', (engine) => {
  const fixture = useHost(engine);

  async function settled(id: string, state: string) {
    await expect
      .poll(async () => (await fixture.host.get(id)).state, { timeout: 10_000, interval: 20 })
      .toBe(state);
    return fixture.host.get(id);
  }

  it('runs 50 tasks that finish in random order: every result arrives once, rows and snapshot agree', async () => {
    const tasks = Array.from({ length: 50 }, (_, n) => ({ name: 'double', input: { n } }));
    const { id } = await fixture.host.spawn('worker', { tasks });
    const row = await settled(id, 'completed');
    const context = (row.snapshot as { context: { tasks: Record<string, SpawnedTask> } }).context;
    const rows = await listTasks(fixture.db, id);
    expect(rows).toHaveLength(50);
    for (const task of rows) {
      const n = (task.input as { n: number }).n;
      expect(task).toMatchObject({ status: 'succeeded', result: n * 2, attempts: 1 });
      expect(context.tasks[task.id]).toMatchObject({ status: 'succeeded', result: n * 2 });
    }
    const journal = await listEvents(fixture.db, id);
    const finished = journal.filter((e) => e.kind === 'task_finished');
    expect(finished).toHaveLength(50);
    expect(new Set(finished.map((e) => (e.payload as { taskId: string }).taskId)).size).toBe(50);
    expect(journal.filter((e) => e.kind === 'task_started')).toHaveLength(50);
    expect(await validateSpawnedTasks(fixture.db, id)).toMatchObject({ valid: true });
    const keys = taskLog.runs.filter((r) => rows.some((t) => t.id === r.taskId)).map((r) => r.key);
    expect(new Set(keys).size).toBe(50);
  });

  it('restarts a transient task within its intensity and escalates exactly when the budget is spent', async () => {
    const { id } = await fixture.host.spawn('worker', {
      tasks: [{ name: 'flaky', policy: { restart: 'transient', intensity: 2, periodMs: 60_000 } }],
    });
    const row = await settled(id, 'failed');
    const [task] = await listTasks(fixture.db, id);
    expect(task).toMatchObject({ attempts: 3, status: 'failed' });
    expect(taskLog.runs.filter((r) => r.taskId === task?.id).map((r) => r.key)).toEqual([
      `${task?.id}:1`,
      `${task?.id}:2`,
      `${task?.id}:3`,
    ]);
    expect(row.errorMessage).toContain('needed more than 2 restarts within 60000 ms');
    const kinds = (await listEvents(fixture.db, id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'task_restarted')).toHaveLength(2);
  });

  it('records every attempt of 40 escalating supervisors in rows that agree with their snapshots', async () => {
    // Many supervisors restarting at once make commits lag the live context: a run must
    // not start before its attempt is durable, or its outcome misses the row.
    const spawned = await Promise.all(
      Array.from({ length: 40 }, () =>
        fixture.host.spawn('worker', {
          tasks: [
            { name: 'flaky', policy: { restart: 'transient', intensity: 2, periodMs: 60_000 } },
          ],
        }),
      ),
    );
    for (const { id } of spawned) {
      await settled(id, 'failed');
      const [task] = await listTasks(fixture.db, id);
      expect(task).toMatchObject({ attempts: 3, status: 'failed', error: 'flaky attempt 3' });
      const attempts = taskLog.runs.filter((r) => r.taskId === task?.id).map((r) => r.attempt);
      expect(attempts).toEqual([1, 2, 3]);
    }
  });

  it('does not restart a temporary task: its failure reaches the supervisor', async () => {
    const { id } = await fixture.host.spawn('worker', { tasks: [{ name: 'flaky' }] });
    await settled(id, 'completed');
    const [task] = await listTasks(fixture.db, id);
    expect(task).toMatchObject({ attempts: 1, status: 'failed', error: 'flaky attempt 1' });
  });

  it('restarts running siblings with a failing task under one_for_all', async () => {
    const { id } = await fixture.host.spawn('worker', {
      strategy: 'one_for_all',
      tasks: [
        { name: 'slow' },
        { name: 'flaky', policy: { restart: 'transient', intensity: 1, periodMs: 60_000 } },
      ],
    });
    await settled(id, 'failed');
    const rows = await listTasks(fixture.db, id);
    const slow = rows.find((r) => r.name === 'slow');
    expect(slow?.attempts).toBe(2);
    expect(taskLog.aborted.has(slow?.id as string)).toBe(true);
  });

  it('cancels running tasks with their supervisor: they see the abort and are recorded cancelled', async () => {
    const { id } = await fixture.host.spawn('worker', {
      tasks: [{ name: 'slow' }, { name: 'slow' }],
    });
    await expect
      .poll(async () => (await listTasks(fixture.db, id)).map((t) => t.status), { timeout: 5_000 })
      .toEqual(['running', 'running']);
    await fixture.host.cancel(id);
    const rows = await listTasks(fixture.db, id);
    expect(rows.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    await expect.poll(() => rows.every((r) => taskLog.aborted.has(r.id))).toBe(true);
  });
});
