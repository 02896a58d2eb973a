import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TaskStatus } from '../../src/model/task.ts';
import type { Database } from '../../src/persistence/database.ts';
import {
  insertTasks,
  listTasks,
  recordTaskOutcome,
  taskRows,
  upsertTasksSql,
  validateSpawnedTasks,
} from '../../src/persistence/taskRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { saveRows, supervisorWrite } from '../helpers/fixtures.ts';

type Seen = { status: TaskStatus; attempt: number };

describeEachEngine('task repository', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  /** A supervisor whose snapshot sees `seen` tasks, with rows for `recorded` (by id). */
  async function supervisor(seen: Record<string, Seen>, recorded: Record<string, Seen>) {
    const write = supervisorWrite({
      spawnedTaskIds: Object.keys(seen),
      snapshot: { status: 'active', value: 'x', children: {}, context: { tasks: seen } },
    });
    await saveRows(db, write);
    await insertTasks(
      db,
      Object.entries(recorded).map(([id, row]) => ({
        id,
        supervisorId: write.id,
        name: 'step',
        status: row.status,
      })),
    );
    for (const [id, row] of Object.entries(recorded)) {
      await db.query('UPDATE supervisor_tasks SET attempts = $2 WHERE id = $1', [id, row.attempt]);
    }
    return write.id;
  }

  const running = (attempt = 1): Seen => ({ status: 'running', attempt });
  const done = (attempt = 1): Seen => ({ status: 'succeeded', attempt });

  it('validates a supervisor whose snapshot and rows agree', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const id = await supervisor({ [a]: running(), [b]: done() }, { [a]: running(), [b]: done() });
    expect(await validateSpawnedTasks(db, id)).toEqual({
      valid: true,
      violations: [],
      recovery: 'proceed',
    });
  });

  it('names each kind of inconsistency with the action that repairs it', async () => {
    const [missing, extra, undelivered, behind, restarted] = Array.from({ length: 5 }, (): string =>
      randomUUID(),
    ) as [string, string, string, string, string];
    const id = await supervisor(
      { [missing]: running(), [undelivered]: running(), [behind]: done(), [restarted]: running(2) },
      { [extra]: running(), [undelivered]: done(), [behind]: running(), [restarted]: running(1) },
    );
    const result = await validateSpawnedTasks(db, id);
    expect(result.valid).toBe(false);
    expect(result.recovery).toBe('repair');
    expect(result.violations.map((v) => [v.code, v.subject, v.action])).toEqual([
      ['task_row_missing', missing, 'write_row'],
      ['task_outcome_undelivered', undelivered, 'deliver_outcome'],
      ['task_status_mismatch', behind, 'write_row'],
      ['task_attempt_mismatch', restarted, 'write_row'],
      ['task_row_extra', extra, 'cancel_row'],
    ]);
  });

  it('calls for a fresh start when the supervisor is not stored', async () => {
    const result = await validateSpawnedTasks(db, randomUUID());
    expect(result).toMatchObject({ valid: false, recovery: 'start_fresh' });
    expect(result.violations[0]?.code).toBe('supervisor_missing');
  });

  it('records a run outcome for its own attempt only', async () => {
    const task = randomUUID();
    const id = await supervisor({ [task]: running(2) }, { [task]: running(2) });
    expect(await recordTaskOutcome(db, { taskId: task, attempt: 1, status: 'failed' })).toBe(false);
    expect(
      await recordTaskOutcome(db, { taskId: task, attempt: 2, status: 'succeeded', result: 7 }),
    ).toBe(true);
    expect((await listTasks(db, id))[0]).toMatchObject({ status: 'succeeded', result: 7 });
  });

  it('does not let a snapshot written earlier walk back an outcome the row recorded', async () => {
    const task = randomUUID();
    const id = await supervisor({ [task]: running() }, { [task]: running() });
    await recordTaskOutcome(db, { taskId: task, attempt: 1, status: 'succeeded', result: 'ok' });
    const row = (status: TaskStatus, attempt: number) => ({
      id: task,
      supervisorId: id,
      name: 'step',
      status,
      input: null,
      result: null,
      error: null,
      attempt,
      policy: {},
      restarts: [],
    });
    await db.query(upsertTasksSql('$1'), [taskRows([row('running', 1)])]);
    expect((await listTasks(db, id))[0]).toMatchObject({ status: 'succeeded', result: 'ok' });
    // A restart (a new attempt) does replace it.
    await db.query(upsertTasksSql('$1'), [taskRows([row('pending', 2)])]);
    expect((await listTasks(db, id))[0]).toMatchObject({ status: 'pending', attempts: 2 });
  });
});
