import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LifecycleState } from '../../src/model/supervisor.ts';
import type { Database } from '../../src/persistence/database.ts';
import { appendEvents, saveCheckpoints } from '../../src/persistence/journalRepository.ts';
import {
  claimForRetry,
  deleteFinishedSupervisor,
  deleteFinishedSupervisors,
} from '../../src/persistence/retentionRepository.ts';
import { insertTasks } from '../../src/persistence/taskRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { saveRows, supervisorWrite } from '../helpers/fixtures.ts';

describeEachEngine('retention in the database', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  /** A supervisor in `state` since `daysAgo`, with a journal entry, a checkpoint, a task. */
  async function stored(state: LifecycleState, daysAgo: number): Promise<string> {
    const write = supervisorWrite({ state });
    await saveRows(db, write);
    await appendEvents(db, [{ supervisorId: write.id, version: 1, kind: 'phase_changed' }]);
    await saveCheckpoints(db, [
      {
        supervisorId: write.id,
        version: 1,
        machineVersion: 1,
        phase: 'plan',
        snapshot: {},
        timers: [],
      },
    ]);
    await insertTasks(db, [{ id: randomUUID(), supervisorId: write.id, name: 'step' }]);
    await db.query(
      `UPDATE supervisor_states SET state_entered_at = now() - $2 * interval '1 day' WHERE id = $1`,
      [write.id, daysAgo],
    );
    return write.id;
  }

  async function left(ids: readonly string[]): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of [
      'supervisor_states',
      'supervisor_events',
      'supervisor_checkpoints',
      'supervisor_tasks',
    ]) {
      const column = table === 'supervisor_states' ? 'id' : 'supervisor_id';
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE ${column} = ANY ($1::uuid[])`,
        [ids],
      );
      counts[table] = rows[0]?.n ?? -1;
    }
    return counts;
  }

  it('deletes supervisors finished before the cut, oldest first, with everything of theirs', async () => {
    const old = [
      await stored('completed', 40),
      await stored('failed', 35),
      await stored('cancelled', 31),
    ];
    const kept = [
      await stored('completed', 5),
      await stored('working', 90),
      await stored('waiting_for_user', 90),
    ];
    const cut = new Date(Date.now() - 30 * 86_400_000);
    // Oldest first, two at a time.
    expect(await deleteFinishedSupervisors(db, cut, 2)).toEqual(old.slice(0, 2));
    expect(await deleteFinishedSupervisors(db, cut, 2)).toEqual(old.slice(2));
    expect(await deleteFinishedSupervisors(db, cut, 2)).toEqual([]);
    expect(await left(old)).toEqual({
      supervisor_states: 0,
      supervisor_events: 0,
      supervisor_checkpoints: 0,
      supervisor_tasks: 0,
    });
    expect(await left(kept)).toEqual({
      supervisor_states: 3,
      supervisor_events: 3,
      supervisor_checkpoints: 3,
      supervisor_tasks: 3,
    });
  });

  it('deletes one supervisor only when it is finished, and tells an unknown one apart', async () => {
    const running = await stored('working', 0);
    const finished = await stored('completed', 0);
    expect(await deleteFinishedSupervisor(db, running)).toBe('not-finished');
    expect(await deleteFinishedSupervisor(db, randomUUID())).toBe('not-found');
    expect(await deleteFinishedSupervisor(db, finished)).toBe('deleted');
    expect(await deleteFinishedSupervisor(db, finished)).toBe('not-found');
    expect((await left([running])).supervisor_states).toBe(1);
    expect(await left([finished])).toEqual({
      supervisor_states: 0,
      supervisor_events: 0,
      supervisor_checkpoints: 0,
      supervisor_tasks: 0,
    });
  });

  it('passes over a supervisor whose retry began, and claims only a failed or cancelled one', async () => {
    const retried = await stored('failed', 40);
    const other = await stored('cancelled', 40);
    expect(await claimForRetry(db, retried)).toBe(true);
    const cut = new Date(Date.now() - 30 * 86_400_000);
    // Only the one nobody retries goes: the retry's first write finds its row still there.
    expect(await deleteFinishedSupervisors(db, cut, 10)).toEqual([other]);
    expect((await left([retried])).supervisor_states).toBe(1);
    expect(await claimForRetry(db, other), 'deleted').toBe(false);
    expect(await claimForRetry(db, await stored('completed', 40)), 'completed').toBe(false);
    expect(await claimForRetry(db, await stored('working', 1)), 'running').toBe(false);
  });
});
