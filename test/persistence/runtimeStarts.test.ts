import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { recordRuntimeStart } from '../../src/persistence/runtimeStarts.ts';
import { describeEachEngine } from '../helpers/engines.ts';

describeEachEngine('runtime starts', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  it('records each start and returns every start, the new one included, oldest first', async () => {
    const first = new Date('2026-12-01T10:00:00.000Z');
    const second = new Date('2026-12-01T11:00:00.000Z');
    expect(await recordRuntimeStart(db, second)).toEqual([second]);
    // Recorded in any order, listed by time.
    expect(await recordRuntimeStart(db, first)).toEqual([first, second]);
  });

  it('keeps only the newest starts, so the table does not grow with every restart', async () => {
    const base = Date.parse('2026-12-02T00:00:00.000Z');
    const at = (i: number) => new Date(base + i * 60_000);
    for (let i = 0; i < 5; i++) await recordRuntimeStart(db, at(i), 3);
    expect(await recordRuntimeStart(db, at(5), 3)).toEqual([at(3), at(4), at(5)]);
  });
});
