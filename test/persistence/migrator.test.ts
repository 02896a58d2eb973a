import { readFile } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import type { Database } from '../../src/persistence/database.ts';
import { sqlState } from '../../src/persistence/database.ts';
import { loadMigrations, type Migration, migrate } from '../../src/persistence/migrator.ts';
import { dumpSchema } from '../../src/persistence/schemaDump.ts';
import { describeEachEngine, describePostgresOnly } from '../helpers/engines.ts';

const SEED_COLUMNS: Record<string, string> = {
  state: 'USER-DEFINED:supervisor_state',
  current_activity: 'text',
  progress: 'smallint',
  error_message: 'text',
  spawned_task_ids: 'ARRAY:_uuid',
  pending_questions: 'jsonb',
  restoration_count: 'integer',
  last_restored_at: 'timestamp with time zone',
  restoration_source: 'text',
};

let open: Database[] = [];
afterEach(async () => {
  await Promise.all(open.map((db) => db.close()));
  open = [];
});

async function ledger(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM steward_migrations ORDER BY id');
  return rows.map((row) => row.id);
}

describeEachEngine('migrate', (engine) => {
  async function empty(): Promise<Database> {
    const db = await engine.openEmpty();
    open.push(db);
    return db;
  }

  it('applies every migration in order and records each in the ledger', async () => {
    const db = await empty();
    const migrations = await loadMigrations();
    const report = await migrate(db);
    expect(report.applied).toEqual(migrations.map((m) => m.id));
    expect(await ledger(db)).toEqual(migrations.map((m) => m.id));
    expect(migrations.map((m) => m.id)).toContain('20260201000001_enhanced_supervisor_state');
  });

  it('gives supervisor_states every column of the seed with its type', async () => {
    const db = await empty();
    await migrate(db);
    const { rows } = await db.query<{ column_name: string; data_type: string; udt_name: string }>(
      `SELECT column_name, data_type, udt_name FROM information_schema.columns
       WHERE table_name = 'supervisor_states'`,
    );
    const types = Object.fromEntries(
      rows.map((r) => [
        r.column_name,
        r.data_type === 'USER-DEFINED' || r.data_type === 'ARRAY'
          ? `${r.data_type}:${r.udt_name}`
          : r.data_type,
      ]),
    );
    for (const [column, type] of Object.entries(SEED_COLUMNS)) {
      expect(types[column], column).toBe(type);
    }
  });

  it('is a no-op when run again', async () => {
    const db = await empty();
    await migrate(db);
    const before = await dumpSchema(db);
    const again = await migrate(db);
    expect(again.applied).toEqual([]);
    expect(await dumpSchema(db)).toBe(before);
  });

  it('makes the database itself refuse a progress of 101', async () => {
    const db = await empty();
    await migrate(db);
    const insert = (progress: number) =>
      db.query(
        `INSERT INTO supervisor_states (id, machine_id, machine_version, snapshot, version, progress)
         VALUES (gen_random_uuid(), 'm', 1, '{}', 1, $1)`,
        [progress],
      );
    await insert(100);
    const error = await insert(101).catch((e: unknown) => e);
    expect(sqlState(error)).toBe('23514');
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM supervisor_states',
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('refuses a migration edited after it was applied, changing nothing', async () => {
    const db = await empty();
    const migrations = await loadMigrations();
    await migrate(db, { migrations: migrations.slice(0, 1) });
    const edited: Migration[] = migrations.map((m, i) =>
      i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: 'edited' } : m,
    );
    const error = await migrate(db, { migrations: edited }).catch((e: unknown) => e);
    expect(isStewardError(error, 'ERR_MIGRATION_CHECKSUM')).toBe(true);
    expect(String((error as Error).message)).toContain(migrations[0]?.id);
    expect(await ledger(db)).toEqual([migrations[0]?.id]);
  });

  it('refuses a database migrated by newer code', async () => {
    const db = await empty();
    const migrations = await loadMigrations();
    const newer: Migration = {
      id: '29990101000000_from_the_future',
      sql: 'CREATE TABLE future (id int)',
      checksum: 'x',
    };
    await migrate(db, { migrations: [...migrations, newer] });
    const error = await migrate(db, { migrations }).catch((e: unknown) => e);
    expect(isStewardError(error, 'ERR_DATABASE_NEWER')).toBe(true);
    expect((error as Error).message).toContain(newer.id);
  });

  it('rolls back a failing migration together with its ledger row', async () => {
    const db = await empty();
    const migrations = await loadMigrations();
    const broken: Migration = {
      id: '29990101000000_broken',
      sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();',
      checksum: 'y',
    };
    const error = await migrate(db, { migrations: [...migrations, broken] }).catch(
      (e: unknown) => e,
    );
    expect(isStewardError(error, 'ERR_MIGRATION_FAILED')).toBe(true);
    expect(await ledger(db)).toEqual(migrations.map((m) => m.id));
    const { rows } = await db.query(
      "SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'",
    );
    expect(rows).toEqual([]);
  });

  it('produces the schema recorded in test/schema.sql (run `npm run schema:dump` after a migration)', async () => {
    const db = await empty();
    await migrate(db);
    const recorded = await readFile(new URL('../schema.sql', import.meta.url), 'utf8');
    expect(await dumpSchema(db)).toBe(recorded);
  });
});

describePostgresOnly('migrate with several runners at once', (engine) => {
  it('leaves one correctly migrated schema when four runners start together', async () => {
    const first = await engine.openEmpty();
    open.push(first);
    const migrations = await loadMigrations();
    // Four pools on the same database, as four processes starting at once would be.
    const { location } = first;
    const url = new URL(process.env.DATABASE_URL as string);
    url.pathname = location.slice(location.lastIndexOf('/'));
    const { openPgDatabase } = await import('../../src/persistence/pgDatabase.ts');
    const others = await Promise.all(
      [1, 2, 3].map(() => openPgDatabase({ connectionString: url.toString() })),
    );
    try {
      const reports = await Promise.all([first, ...others].map((db) => migrate(db)));
      const appliedTotal = reports.flatMap((r) => r.applied);
      expect(appliedTotal.sort()).toEqual(migrations.map((m) => m.id).sort());
      expect(await ledger(first)).toEqual(migrations.map((m) => m.id));
      const recorded = await readFile(new URL('../schema.sql', import.meta.url), 'utf8');
      expect(await dumpSchema(first)).toBe(recorded);
    } finally {
      await Promise.all(others.map((db) => db.close()));
    }
  });
});
