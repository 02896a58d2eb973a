// The full state save (the seed's save_supervisor_state_full) is the group commit the
// snapshot writer makes: every derived column is written with its snapshot, or not at all.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { listCheckpoints, listEvents } from '../../src/persistence/journalRepository.ts';
import { getSupervisor } from '../../src/persistence/supervisorRepository.ts';
import {
  createSupervisorStore,
  saveSupervisorStateFull,
} from '../../src/persistence/supervisorStore.ts';
import { listTasks } from '../../src/persistence/taskRepository.ts';
import { describeEachEngine, describePostgresOnly } from '../helpers/engines.ts';
import { question, saveRows, supervisorWrite } from '../helpers/fixtures.ts';

describeEachEngine('supervisor store', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  async function stored(id: string) {
    const state = await getSupervisor(db, id);
    if (!state) throw new Error(`supervisor ${id} not stored`);
    return state;
  }

  describe('saveSupervisorStateFull', () => {
    it('inserts a new supervisor with every derived column', async () => {
      const taskId = randomUUID();
      const write = supervisorWrite({
        state: 'waiting_for_user',
        currentActivity: 'asking for approval',
        progress: 40,
        phase: 'review',
        errorMessage: null,
        spawnedTaskIds: [taskId],
        pendingQuestions: [question('q1')],
        timers: [{ id: 't1', due: 1_700_000_000_000 }],
      });
      expect(await saveRows(db, write)).toEqual({ saved: [write.id], stale: [], fenced: [] });
      const state = await stored(write.id);
      expect(state).toMatchObject({
        machineId: 'reference',
        machineVersion: 1,
        owner: 'alice',
        version: 1,
        state: 'waiting_for_user',
        currentActivity: 'asking for approval',
        progress: 40,
        phase: 'review',
        errorMessage: null,
        spawnedTaskIds: [taskId],
        pendingQuestions: [question('q1')],
        timers: [{ id: 't1', due: 1_700_000_000_000 }],
        restorationCount: 0,
        lastRestoredAt: null,
        restorationSource: null,
      });
      expect(state.snapshot).toEqual(write.snapshot);
    });

    it('replaces the row with a newer version', async () => {
      const write = supervisorWrite();
      await saveRows(db, write);
      const newer = { ...write, version: 2, progress: 55, state: 'completed' as const };
      expect((await saveRows(db, newer)).saved).toEqual([write.id]);
      expect(await stored(write.id)).toMatchObject({
        version: 2,
        progress: 55,
        state: 'completed',
      });
    });

    it('refuses a write whose version is not newer, naming the stored version', async () => {
      const write = supervisorWrite({ version: 5, progress: 50 });
      await saveRows(db, write);
      for (const version of [4, 5]) {
        expect(await saveRows(db, { ...write, version, progress: 40 })).toEqual({
          saved: [],
          stale: [{ id: write.id, storedVersion: 5 }],
          fenced: [],
        });
      }
      expect(await stored(write.id)).toMatchObject({ version: 5, progress: 50 });
    });

    it('never rewrites machine id or owner', async () => {
      const write = supervisorWrite();
      await saveRows(db, write);
      await saveRows(db, { ...write, version: 2, owner: 'mallory', machineId: 'other' });
      expect(await stored(write.id)).toMatchObject({ owner: 'alice', machineId: 'reference' });
    });

    it('writes many supervisors in one statement and reports the stale ones', async () => {
      const existing = supervisorWrite({ version: 9 });
      await saveRows(db, existing);
      const fresh = Array.from({ length: 50 }, (_, i) => supervisorWrite({ progress: i }));
      const result = await saveRows(db, ...fresh, { ...existing, version: 3 });
      expect(result.saved.sort()).toEqual(fresh.map((w) => w.id).sort());
      expect(result.stale).toEqual([{ id: existing.id, storedVersion: 9 }]);
      for (const w of fresh) expect((await stored(w.id)).progress).toBe(w.progress);
    });

    it('writes nothing for an empty batch', async () => {
      expect(await saveRows(db)).toEqual({ saved: [], stale: [], fenced: [] });
    });

    it('fails the whole batch when one row breaks a constraint', async () => {
      const good = supervisorWrite();
      const bad = supervisorWrite({ progress: 101 });
      await expect(saveRows(db, good, bad)).rejects.toThrow();
      expect(await getSupervisor(db, good.id)).toBeNull();
    });

    it('writes journal entries, checkpoints and task rows only with the rows it wrote', async () => {
      const old = supervisorWrite({ version: 7 });
      await saveRows(db, old);
      const written = supervisorWrite({ version: 2 });
      const refused = { ...old, version: 3 };
      const writes = [written, refused];
      const result = await saveSupervisorStateFull(db, {
        states: writes,
        events: writes.map((w) => ({
          supervisorId: w.id,
          version: w.version,
          kind: 'phase_changed' as const,
        })),
        checkpoints: writes.map((w) => ({
          supervisorId: w.id,
          version: w.version,
          machineVersion: 1,
          phase: 'plan',
          snapshot: w.snapshot,
          timers: [],
        })),
        tasks: writes.map((w) => ({
          id: randomUUID(),
          supervisorId: w.id,
          name: 'step',
          status: 'pending' as const,
          input: null,
          result: null,
          error: null,
          attempt: 1,
          policy: { restart: 'temporary', intensity: 3, periodMs: 60_000 },
          restarts: [],
        })),
      });
      expect(result).toEqual({
        saved: [written.id],
        stale: [{ id: old.id, storedVersion: 7 }],
        fenced: [],
      });
      expect((await listEvents(db, written.id)).map((e) => e.kind)).toEqual(['phase_changed']);
      expect((await listCheckpoints(db, written.id)).map((c) => c.version)).toEqual([2]);
      expect(await listTasks(db, written.id)).toHaveLength(1);
      expect(await listEvents(db, old.id)).toEqual([]);
      expect(await listCheckpoints(db, old.id)).toEqual([]);
      expect(await listTasks(db, old.id)).toEqual([]);
    });
  });

  it('answers a fleet listing with pending questions from the pending-questions query', async () => {
    const store = createSupervisorStore(db);
    const owner = `owner-${randomUUID()}`;
    const asking = supervisorWrite({ owner, pendingQuestions: [question('x')] });
    const quiet = supervisorWrite({ owner });
    await saveRows(db, asking, quiet);
    const ids = async (hasPendingQuestions?: boolean) =>
      (
        await store.listSupervisors({
          owner,
          ...(hasPendingQuestions === undefined ? {} : { hasPendingQuestions }),
        })
      ).map((s) => s.id);
    expect(await ids(true)).toEqual([asking.id]);
    expect(await ids(false)).toEqual([quiet.id]);
    expect((await ids()).sort()).toEqual([asking.id, quiet.id].sort());
  });
});

describePostgresOnly('supervisor store under concurrency', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated({ max: 20 });
  });
  afterAll(() => db.close());

  it('keeps the newest of 20 concurrent full saves, whatever order they land in', async () => {
    const write = supervisorWrite({ version: 1 });
    await saveRows(db, write);
    const versions = Array.from({ length: 20 }, (_, i) => i + 2).sort(() => Math.random() - 0.5);
    await Promise.all(
      versions.map((version) => saveRows(db, { ...write, version, progress: version })),
    );
    expect(await getSupervisor(db, write.id)).toMatchObject({ version: 21, progress: 21 });
  });
});
