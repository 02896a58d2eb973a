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
});
