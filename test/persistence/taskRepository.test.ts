import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { saveStateFull } from '../../src/persistence/supervisorRepository.ts';
import {
  insertTasks,
  listTasks,
  validateSpawnedTasks,
} from '../../src/persistence/taskRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { supervisorWrite } from '../helpers/fixtures.ts';

describeEachEngine('task repository', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  async function supervisorWithTasks(listed: string[], recorded: string[]) {
    const write = supervisorWrite({ spawnedTaskIds: listed });
    await saveStateFull(db, write);
    await insertTasks(
      db,
      recorded.map((id, i) => ({ id, supervisorId: write.id, name: `task-${i}`, input: { i } })),
    );
    return write.id;
  }

  it('records tasks once and lists them', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const id = await supervisorWithTasks([a, b], [a, b]);
    await insertTasks(db, [{ id: a, supervisorId: id, name: 'again', status: 'running' }]);
    const tasks = await listTasks(db, id);
    expect(tasks.map((t) => t.id).sort()).toEqual([a, b].sort());
    expect(tasks.find((t) => t.id === a)).toMatchObject({ name: 'task-0', status: 'pending' });
  });

  it('validates a supervisor whose list and rows agree', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const id = await supervisorWithTasks(ids, ids);
    expect(await validateSpawnedTasks(db, id)).toEqual({
      valid: true,
      violations: [],
      recovery: 'proceed',
    });
  });

  it('names a listed task with no row and a row that is not listed', async () => {
    const [kept, missing, extra] = [randomUUID(), randomUUID(), randomUUID()];
    const id = await supervisorWithTasks([kept, missing], [kept, extra]);
    const result = await validateSpawnedTasks(db, id);
    expect(result.valid).toBe(false);
    expect(result.recovery).toBe('restore_from_checkpoint');
    expect(result.violations.map((v) => [v.code, v.subject])).toEqual([
      ['task_row_missing', missing],
      ['task_row_extra', extra],
    ]);
  });

  it('calls for a fresh start when the supervisor is not stored', async () => {
    const result = await validateSpawnedTasks(db, randomUUID());
    expect(result).toMatchObject({ valid: false, recovery: 'start_fresh' });
    expect(result.violations[0]?.code).toBe('supervisor_missing');
  });
});
