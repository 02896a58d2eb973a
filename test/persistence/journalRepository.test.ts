import { afterAll, beforeAll, expect, it } from 'vitest';
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
    const kinds = Array.from({ length: 25 }, (_, i) => `kind-${i}`);
    await appendEvents(
      db,
      kinds.map((kind, i) => ({ supervisorId: write.id, version: i, kind, payload: { i } })),
    );
    const firstPage = await listEvents(db, write.id, { limit: 10 });
    const rest = await listEvents(db, write.id, { afterId: firstPage.at(-1)?.id ?? 0 });
    expect([...firstPage, ...rest].map((e) => e.kind)).toEqual(kinds);
    expect(rest.at(-1)).toMatchObject({ version: 24, payload: { i: 24 } });
  });

  it('hands back the newest entries of each supervisor asked for, oldest first', async () => {
    const [long, short, silent] = [supervisorWrite(), supervisorWrite(), supervisorWrite()];
    for (const write of [long, short, silent]) await saveRows(db, write);
    const entries = (id: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({ supervisorId: id, version: i, kind: `k${i}` }));
    await appendEvents(db, [...entries(long.id, 30), ...entries(short.id, 3)]);
    const history = await recentEvents(db, [long.id, short.id, long.id, silent.id], 20);
    expect(history.get(long.id)?.map((e) => e.kind)).toEqual(
      Array.from({ length: 20 }, (_, i) => `k${i + 10}`),
    );
    expect(history.get(short.id)?.map((e) => e.kind)).toEqual(['k0', 'k1', 'k2']);
    expect(history.has(silent.id)).toBe(false);
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
