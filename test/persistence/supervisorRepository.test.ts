import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import type { Database } from '../../src/persistence/database.ts';
import { listCheckpoints, listEvents } from '../../src/persistence/journalRepository.ts';
import {
  addPendingQuestion,
  addSpawnedTask,
  getStateForRestoration,
  getSupervisor,
  getSupervisorsWithPendingQuestions,
  listRestorable,
  markRestored,
  removePendingQuestion,
  saveStateFull,
  saveStates,
  updateDetailedState,
  updateHeartbeats,
  updatePhase,
} from '../../src/persistence/supervisorRepository.ts';
import { describeEachEngine, describePostgresOnly } from '../helpers/engines.ts';
import { question, supervisorWrite } from '../helpers/fixtures.ts';

describeEachEngine('supervisor repository', (engine) => {
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

  describe('saveStateFull', () => {
    it('inserts a new supervisor with every derived column', async () => {
      const taskId = randomUUID();
      const write = supervisorWrite({
        state: 'waiting_for_user',
        currentActivity: 'asking for approval',
        progress: 40,
        phase: 'review',
        spawnedTaskIds: [taskId],
        pendingQuestions: [question('q1')],
        timers: [{ id: 't1', due: 1_700_000_000_000 }],
      });
      expect(await saveStateFull(db, write)).toBe('saved');
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
      await saveStateFull(db, write);
      const newer = { ...write, version: 2, progress: 55, state: 'completed' as const };
      expect(await saveStateFull(db, newer)).toBe('saved');
      expect(await stored(write.id)).toMatchObject({
        version: 2,
        progress: 55,
        state: 'completed',
      });
    });

    it('rejects a write whose version is not newer than the stored one', async () => {
      const write = supervisorWrite({ version: 5, progress: 50 });
      await saveStateFull(db, write);
      expect(await saveStateFull(db, { ...write, version: 4, progress: 40 })).toBe('stale');
      expect(await saveStateFull(db, { ...write, version: 5, progress: 45 })).toBe('stale');
      expect(await stored(write.id)).toMatchObject({ version: 5, progress: 50 });
    });

    it('never rewrites machine id or owner', async () => {
      const write = supervisorWrite();
      await saveStateFull(db, write);
      await saveStateFull(db, { ...write, version: 2, owner: 'mallory', machineId: 'other' });
      expect(await stored(write.id)).toMatchObject({ owner: 'alice', machineId: 'reference' });
    });
  });

  describe('saveStates', () => {
    it('writes many supervisors in one statement and reports the stale ones', async () => {
      const existing = supervisorWrite({ version: 9 });
      await saveStates(db, [existing]);
      const fresh = Array.from({ length: 50 }, (_, i) => supervisorWrite({ progress: i }));
      const result = await saveStates(db, [...fresh, { ...existing, version: 3 }]);
      expect(result.saved).toEqual(fresh.map((w) => w.id));
      expect(result.stale).toEqual([existing.id]);
      for (const w of fresh) expect((await stored(w.id)).progress).toBe(w.progress);
    });

    it('writes nothing for an empty batch', async () => {
      expect(await saveStates(db, [])).toEqual({ saved: [], stale: [] });
    });

    it('fails the whole batch when one row breaks a constraint', async () => {
      const good = supervisorWrite();
      const bad = supervisorWrite({ progress: 101 });
      await expect(saveStates(db, [good, bad])).rejects.toThrow();
      expect(await getSupervisor(db, good.id)).toBeNull();
    });
  });

  describe('updateDetailedState', () => {
    it('sets state, activity and progress', async () => {
      const write = supervisorWrite();
      await saveStateFull(db, write);
      await updateDetailedState(db, write.id, {
        state: 'waiting_for_tasks',
        currentActivity: 'waiting for 3 tasks',
        progress: 70,
      });
      expect(await stored(write.id)).toMatchObject({
        state: 'waiting_for_tasks',
        currentActivity: 'waiting for 3 tasks',
        progress: 70,
        version: 1,
      });
    });

    it('reports an unknown supervisor', async () => {
      const error = await updateDetailedState(db, randomUUID(), {
        state: 'working',
        currentActivity: null,
        progress: 0,
      }).catch((e: unknown) => e);
      expect(isStewardError(error, 'ERR_SUPERVISOR_NOT_FOUND')).toBe(true);
    });
  });

  describe('addSpawnedTask', () => {
    it('appends a task id once', async () => {
      const write = supervisorWrite();
      await saveStateFull(db, write);
      const [a, b] = [randomUUID(), randomUUID()];
      expect(await addSpawnedTask(db, write.id, a)).toEqual({ added: true });
      expect(await addSpawnedTask(db, write.id, b)).toEqual({ added: true });
      expect(await addSpawnedTask(db, write.id, a)).toEqual({ added: false });
      expect((await stored(write.id)).spawnedTaskIds).toEqual([a, b]);
    });

    it('reports an unknown supervisor', async () => {
      const error = await addSpawnedTask(db, randomUUID(), randomUUID()).catch((e: unknown) => e);
      expect(isStewardError(error, 'ERR_SUPERVISOR_NOT_FOUND')).toBe(true);
    });
  });

  describe('pending questions', () => {
    it('adds questions in order and ignores an id that is already pending', async () => {
      const write = supervisorWrite();
      await saveStateFull(db, write);
      expect(await addPendingQuestion(db, write.id, question('a'))).toEqual({ added: true });
      expect(await addPendingQuestion(db, write.id, question('b'))).toEqual({ added: true });
      const again = question('a', { prompt: 'a different prompt' });
      expect(await addPendingQuestion(db, write.id, again)).toEqual({ added: false });
      expect((await stored(write.id)).pendingQuestions).toEqual([question('a'), question('b')]);
    });

    it('removes an answered question and says when none was pending', async () => {
      const write = supervisorWrite({
        pendingQuestions: [question('a'), question('b'), question('c')],
      });
      await saveStateFull(db, write);
      expect(await removePendingQuestion(db, write.id, 'b')).toEqual({ removed: true });
      expect(await removePendingQuestion(db, write.id, 'b')).toEqual({ removed: false });
      expect(await removePendingQuestion(db, write.id, 'zzz')).toEqual({ removed: false });
      expect((await stored(write.id)).pendingQuestions).toEqual([question('a'), question('c')]);
      await removePendingQuestion(db, write.id, 'a');
      await removePendingQuestion(db, write.id, 'c');
      expect((await stored(write.id)).pendingQuestions).toEqual([]);
    });

    it('reports an unknown supervisor on add and on remove', async () => {
      const id = randomUUID();
      for (const call of [
        addPendingQuestion(db, id, question('a')),
        removePendingQuestion(db, id, 'a'),
      ]) {
        const error = await call.catch((e: unknown) => e);
        expect(isStewardError(error, 'ERR_SUPERVISOR_NOT_FOUND')).toBe(true);
      }
    });

    it('lists only supervisors with pending questions, by owner', async () => {
      const asking = supervisorWrite({ owner: 'qowner', pendingQuestions: [question('x')] });
      const quiet = supervisorWrite({ owner: 'qowner' });
      const otherOwner = supervisorWrite({ owner: 'else', pendingQuestions: [question('y')] });
      await saveStates(db, [asking, quiet, otherOwner]);
      const listed = await getSupervisorsWithPendingQuestions(db, { owner: 'qowner' });
      expect(listed.map((s) => s.id)).toEqual([asking.id]);
      const all = (await getSupervisorsWithPendingQuestions(db)).map((s) => s.id);
      expect(all).toEqual(expect.arrayContaining([asking.id, otherOwner.id]));
      expect(all).not.toContain(quiet.id);
      for (const s of await getSupervisorsWithPendingQuestions(db)) {
        expect(s.pendingQuestions.length).toBeGreaterThan(0);
      }
    });
  });

  describe('restoration', () => {
    it('loads the state for restoration, or null when none is stored', async () => {
      const write = supervisorWrite({ pendingQuestions: [question('r')] });
      await saveStateFull(db, write);
      expect(await getStateForRestoration(db, write.id)).toMatchObject({
        id: write.id,
        pendingQuestions: [question('r')],
      });
      expect(await getStateForRestoration(db, randomUUID())).toBeNull();
    });

    it('marks a restore: count, time, source and a journal entry', async () => {
      const write = supervisorWrite({ version: 3 });
      await saveStateFull(db, write);
      const first = await markRestored(db, write.id, 'restart');
      const second = await markRestored(db, write.id, 'manual');
      expect(first.restorationCount).toBe(1);
      expect(second.restorationCount).toBe(2);
      expect(second.lastRestoredAt.getTime()).toBeGreaterThanOrEqual(
        first.lastRestoredAt.getTime(),
      );
      expect(await stored(write.id)).toMatchObject({
        restorationCount: 2,
        restorationSource: 'manual',
        lastRestoredAt: second.lastRestoredAt,
      });
      const journal = await listEvents(db, write.id);
      expect(journal.map((e) => [e.kind, e.version, e.payload])).toEqual([
        ['restored', 3, { source: 'restart', restorationCount: 1 }],
        ['restored', 3, { source: 'manual', restorationCount: 2 }],
      ]);
    });

    it('lists restorable supervisors page by page, leaving out terminal ones', async () => {
      const mine = Array.from({ length: 5 }, () => supervisorWrite({ machineId: 'pager' }));
      const done = supervisorWrite({ machineId: 'pager', state: 'completed' });
      await saveStates(db, [...mine, done]);
      const seen: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await listRestorable(db, { limit: 3, ...(afterId ? { afterId } : {}) });
        if (page.length === 0) break;
        seen.push(...page.map((s) => s.id));
        afterId = page.at(-1)?.id;
      }
      expect(seen).toEqual([...seen].sort());
      expect(seen).toEqual(expect.arrayContaining(mine.map((w) => w.id)));
      expect(seen).not.toContain(done.id);
    });
  });

  describe('updatePhase', () => {
    it('sets the phase, keeps a checkpoint and journals the change', async () => {
      const write = supervisorWrite({ version: 7, phase: 'plan' });
      await saveStateFull(db, write);
      await updatePhase(db, write.id, 'execute');
      expect((await stored(write.id)).phase).toBe('execute');
      const [checkpoint] = await listCheckpoints(db, write.id);
      expect(checkpoint).toMatchObject({ version: 7, phase: 'execute', snapshot: write.snapshot });
      const journal = await listEvents(db, write.id);
      expect(journal.map((e) => [e.kind, e.payload])).toEqual([
        ['phase_changed', { from: 'plan', to: 'execute' }],
      ]);
    });

    it('reports an unknown supervisor', async () => {
      const error = await updatePhase(db, randomUUID(), 'x').catch((e: unknown) => e);
      expect(isStewardError(error, 'ERR_SUPERVISOR_NOT_FOUND')).toBe(true);
    });
  });

  describe('updateHeartbeats', () => {
    it('touches last_heartbeat without rewriting the snapshot or version', async () => {
      const write = supervisorWrite({ version: 4 });
      await saveStateFull(db, write);
      const before = await stored(write.id);
      expect(before.lastHeartbeat).toBeNull();
      expect(await updateHeartbeats(db, [write.id, randomUUID()])).toBe(1);
      const after = await stored(write.id);
      expect(after.lastHeartbeat).toBeInstanceOf(Date);
      expect(after.version).toBe(4);
      expect(after.snapshot).toEqual(before.snapshot);
      expect(after.updatedAt).toEqual(before.updatedAt);
    });
  });
});

describePostgresOnly('supervisor repository under concurrency', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated({ max: 20 });
  });
  afterAll(() => db.close());

  it('loses none of 20 concurrent adds of distinct pending questions', async () => {
    const write = supervisorWrite();
    await saveStateFull(db, write);
    const ids = Array.from({ length: 20 }, (_, i) => `q${i}`);
    const results = await Promise.all(
      ids.map((id) => addPendingQuestion(db, write.id, question(id))),
    );
    expect(results.every((r) => r.added)).toBe(true);
    const state = await getSupervisor(db, write.id);
    expect(state?.pendingQuestions.map((q) => q.id).sort()).toEqual([...ids].sort());
  });

  it('adds a question once when 20 callers add the same id at once', async () => {
    const write = supervisorWrite();
    await saveStateFull(db, write);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => addPendingQuestion(db, write.id, question('same'))),
    );
    expect(results.filter((r) => r.added)).toHaveLength(1);
    expect((await getSupervisor(db, write.id))?.pendingQuestions).toEqual([question('same')]);
  });

  it('keeps the newest of 20 concurrent full saves, whatever order they land in', async () => {
    const write = supervisorWrite({ version: 1 });
    await saveStateFull(db, write);
    const versions = Array.from({ length: 20 }, (_, i) => i + 2).sort(() => Math.random() - 0.5);
    await Promise.all(
      versions.map((version) => saveStateFull(db, { ...write, version, progress: version })),
    );
    expect(await getSupervisor(db, write.id)).toMatchObject({ version: 21, progress: 21 });
  });
});
