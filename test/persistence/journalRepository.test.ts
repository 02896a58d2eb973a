import { afterAll, beforeAll, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import { JOURNAL_KINDS, type JournalKind } from '../../src/model/journalKinds.ts';
import type { Database } from '../../src/persistence/database.ts';
import {
  appendEvents,
  listCheckpoints,
  listEvents,
  recentEvents,
  saveCheckpoints,
} from '../../src/persistence/journalRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { saveRows, supervisorWrite } from '../helpers/fixtures.ts';

describeEachEngine('journal and checkpoints', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  it('appends journal entries in the order given and pages through them', async () => {
    const write = supervisorWrite();
    await saveRows(db, write);
    const kinds = Array.from(
      { length: 25 },
      (_, i) => JOURNAL_KINDS[i % JOURNAL_KINDS.length] as JournalKind,
    );
    await appendEvents(
      db,
      kinds.map((kind, i) => ({ supervisorId: write.id, version: i, kind, payload: { i } })),
    );
    const firstPage = await listEvents(db, write.id, { limit: 10 });
    const rest = await listEvents(db, write.id, { afterId: firstPage.at(-1)?.id ?? 0 });
    const all = [...firstPage, ...rest];
    expect(all.map((e) => e.kind)).toEqual(kinds);
    expect(all.map((e) => e.payload)).toEqual(kinds.map((_, i) => ({ i })));
    expect(rest.at(-1)).toMatchObject({ version: 24, payload: { i: 24 } });
  });

  it("deletes a supervisor's journal with it, and only its own (the cascade without a foreign key)", async () => {
    const [gone, kept, alsoGone] = [supervisorWrite(), supervisorWrite(), supervisorWrite()];
    for (const write of [gone, kept, alsoGone]) await saveRows(db, write);
    const entry = (id: string) => ({
      supervisorId: id,
      version: 1,
      kind: 'phase_changed' as const,
    });
    await appendEvents(db, [entry(gone.id), entry(kept.id), entry(alsoGone.id), entry(gone.id)]);
    await db.query('DELETE FROM supervisor_states WHERE id = ANY ($1::uuid[])', [
      [gone.id, alsoGone.id],
    ]);
    expect(await listEvents(db, gone.id)).toEqual([]);
    expect(await listEvents(db, alsoGone.id)).toEqual([]);
    expect((await listEvents(db, kept.id)).map((e) => e.supervisorId)).toEqual([kept.id]);
  });

  it('hands back the newest entries of each supervisor asked for, oldest first', async () => {
    const [long, short, silent] = [supervisorWrite(), supervisorWrite(), supervisorWrite()];
    for (const write of [long, short, silent]) await saveRows(db, write);
    const entries = (id: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        supervisorId: id,
        version: i,
        kind: 'phase_changed' as const,
        payload: { i },
      }));
    await appendEvents(db, [...entries(long.id, 30), ...entries(short.id, 3)]);
    const history = await recentEvents(db, [long.id, short.id, long.id, silent.id], 20);
    expect(history.get(long.id)?.map((e) => e.payload)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ i: i + 10 })),
    );
    expect(history.get(short.id)?.map((e) => e.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(history.has(silent.id)).toBe(false);
  });

  it('refuses to read an entry of a kind the registry does not declare, naming it', async () => {
    const write = supervisorWrite();
    await saveRows(db, write);
    // Written by hand (or by a newer Steward): the column is plain text.
    await db.query(
      `INSERT INTO supervisor_events (supervisor_id, version, kind) VALUES ($1, 1, 'step')`,
      [write.id],
    );
    for (const read of [() => listEvents(db, write.id), () => recentEvents(db, [write.id], 5)]) {
      const error = await read().catch((e: unknown) => e);
      expect(isStewardError(error, 'ERR_INTERNAL')).toBe(true);
      expect((error as Error).message).toMatch(
        new RegExp(`journal entry \\d+ of supervisor ${write.id} has kind "step", which this`),
      );
    }
  });

  it('lists checkpoints newest first and replaces one of the same version', async () => {
    const write = supervisorWrite();
    await saveRows(db, write);
    const checkpoint = (version: number, phase: string) => ({
      supervisorId: write.id,
      version,
      machineVersion: 1,
      phase,
      snapshot: { value: phase },
      timers: [],
    });
    await saveCheckpoints(db, [checkpoint(2, 'a'), checkpoint(5, 'b'), checkpoint(3, 'c')]);
    await saveCheckpoints(db, [checkpoint(5, 'b2')]);
    const listed = await listCheckpoints(db, write.id);
    expect(listed.map((c) => [c.version, c.phase])).toEqual([
      [5, 'b2'],
      [3, 'c'],
      [2, 'a'],
    ]);
    expect(await listCheckpoints(db, write.id, 1)).toHaveLength(1);
  });
});
