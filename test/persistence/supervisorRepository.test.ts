import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import {
  getSupervisor,
  getSupervisorStateForRestoration,
  markSupervisorRestored,
  updateSupervisorHeartbeatState,
} from '../../src/persistence/supervisorRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { question, saveRows, supervisorWrite } from '../helpers/fixtures.ts';

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

  it('loads one supervisor, or null when none is stored', async () => {
    const write = supervisorWrite({ pendingQuestions: [question('r')] });
    await saveRows(db, write);
    expect(await getSupervisor(db, write.id)).toMatchObject({
      id: write.id,
      pendingQuestions: [question('r')],
    });
    expect(await getSupervisor(db, randomUUID())).toBeNull();
  });

  describe('restoration', () => {
    it('loads the states to restore page by page, leaving out terminal ones', async () => {
      const mine = Array.from({ length: 5 }, () => supervisorWrite({ machineId: 'pager' }));
      const done = supervisorWrite({ machineId: 'pager', state: 'completed' });
      await saveRows(db, ...mine, done);
      const seen: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await getSupervisorStateForRestoration(db, {
          limit: 3,
          ...(afterId ? { afterId } : {}),
        });
        if (page.length === 0) break;
        seen.push(...page.map((s) => s.id));
        afterId = page.at(-1)?.id;
      }
      expect(seen).toEqual([...seen].sort());
      expect(seen).toEqual(expect.arrayContaining(mine.map((w) => w.id)));
      expect(seen).not.toContain(done.id);
    });

    it('marks restores in one statement: count, time, source and a journal entry', async () => {
      const write = supervisorWrite({ version: 3 });
      const other = supervisorWrite();
      await saveRows(db, write, other);
      const [first] = await markSupervisorRestored(db, [{ id: write.id, source: 'restart' }]);
      const second = await markSupervisorRestored(db, [
        { id: write.id, source: 'manual' },
        { id: other.id, source: 'checkpoint' },
        { id: randomUUID(), source: 'manual' },
      ]);
      expect(first).toMatchObject({ id: write.id, restorationCount: 1 });
      expect(second.map((m) => [m.id, m.restorationCount]).sort()).toEqual(
        [
          [write.id, 2],
          [other.id, 1],
        ].sort(),
      );
      const mark = second.find((m) => m.id === write.id);
      expect(mark?.lastRestoredAt.getTime()).toBeGreaterThanOrEqual(
        first?.lastRestoredAt.getTime() ?? Number.NaN,
      );
      expect(await stored(write.id)).toMatchObject({
        restorationCount: 2,
        restorationSource: 'manual',
        lastRestoredAt: mark?.lastRestoredAt,
      });
      expect(await stored(other.id)).toMatchObject({ restorationSource: 'checkpoint' });
      const journal = await listEvents(db, write.id);
      expect(journal.map((e) => [e.kind, e.version, e.payload])).toEqual([
        ['restored', 3, { source: 'restart', restorationCount: 1 }],
        ['restored', 3, { source: 'manual', restorationCount: 2 }],
      ]);
    });

    it('marks nothing for no restores', async () => {
      expect(await markSupervisorRestored(db, [])).toEqual([]);
    });
  });

  describe('updateSupervisorHeartbeatState', () => {
    it('touches last_heartbeat without rewriting the snapshot or version', async () => {
      const write = supervisorWrite({ version: 4 });
      await saveRows(db, write);
      const before = await stored(write.id);
      expect(before.lastHeartbeat).toBeNull();
      expect(await updateSupervisorHeartbeatState(db, [write.id, randomUUID()])).toBe(1);
      const after = await stored(write.id);
      expect(after.lastHeartbeat).toBeInstanceOf(Date);
      expect(after.version).toBe(4);
      expect(after.snapshot).toEqual(before.snapshot);
      expect(after.updatedAt).toEqual(before.updatedAt);
    });
  });
});
