import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StewardError } from '../errors.ts';
import { type Logger, silentLogger } from '../logger.ts';
import type { Database, Queryable } from './database.ts';

/** One SQL file of `migrations/`. */
export interface Migration {
  /** The file name without `.sql`: `<14-digit timestamp>_<name>`. */
  id: string;
  sql: string;
  /** sha256 of the file's text: an applied migration must never change. */
  checksum: string;
}

/** What a run of the migrator did. */
export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

/** The project's migrations folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const FILE_NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/;

// Every runner takes this transaction-scoped advisory lock, so two runners on one
// PostgreSQL apply each migration once, one after the other.
const LOCK_KEY = 7_275_621_843;

const CREATE_LEDGER = `
  CREATE TABLE IF NOT EXISTS steward_migrations (
    id         text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads and orders the migration files; a stray file name is an error, not a skip. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      if (!FILE_NAME.test(name)) {
        throw new StewardError(
          'ERR_MIGRATION_FAILED',
          `migration file ${name} must be named <14-digit timestamp>_<lowercase_name>.sql`,
          { file: name },
        );
      }
      const sql = await readFile(join(dir, name), 'utf8');
      return { id: name.slice(0, -'.sql'.length), sql, checksum: checksumOf(sql) };
    }),
  );
}

async function appliedChecksums(db: Queryable): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; checksum: string }>(
    'SELECT id, checksum FROM steward_migrations ORDER BY id',
  );
  return new Map(rows.map((row) => [row.id, row.checksum]));
}

function checkLedger(applied: Map<string, string>, migrations: readonly Migration[]): void {
  const known = new Map(migrations.map((m) => [m.id, m]));
  const unknown = [...applied.keys()].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new StewardError(
      'ERR_DATABASE_NEWER',
      `the database has migrations this version of Steward does not know (${unknown.join(', ')}); ` +
        'run a newer Steward or restore a matching database',
      { unknown },
    );
  }
  for (const [id, checksum] of applied) {
    if (known.get(id)?.checksum !== checksum) {
      throw new StewardError(
        'ERR_MIGRATION_CHECKSUM',
        `migration ${id} was edited after it was applied; add a new migration instead`,
        { id },
      );
    }
  }
}

/**
 * Applies every migration not yet applied, in order, each in its own transaction with its
 * ledger row. Re-running is a no-op; an edited applied migration or a database migrated by
 * newer code is refused before anything is changed.
 *
 * @example
 * const report = await migrate(db, { log });
 */
export async function migrate(
  db: Database,
  options: { migrations?: readonly Migration[]; log?: Logger } = {},
): Promise<MigrationReport> {
  const log = options.log ?? silentLogger;
  const migrations = options.migrations ?? (await loadMigrations());

  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.query(CREATE_LEDGER);
  });
  const before = await appliedChecksums(db);
  checkLedger(before, migrations);

  const pending = migrations.filter((m) => !before.has(m.id));
  const applied: string[] = [];
  for (const [index, migration] of pending.entries()) {
    const started = performance.now();
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      // Another runner may have applied it while this one waited for the lock.
      const now = await appliedChecksums(tx);
      checkLedger(now, migrations);
      if (now.has(migration.id)) return false;
      await tx.query('INSERT INTO steward_migrations (id, checksum) VALUES ($1, $2)', [
        migration.id,
        migration.checksum,
      ]);
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new StewardError(
          'ERR_MIGRATION_FAILED',
          `migration ${migration.id} failed: ${reason}`,
          { id: migration.id },
          { cause: error },
        );
      }
      return true;
    });
    if (ran) applied.push(migration.id);
    log.info(
      {
        migration: migration.id,
        step: index + 1,
        of: pending.length,
        ms: Math.round(performance.now() - started),
        skipped: !ran,
      },
      ran ? 'migration applied' : 'migration already applied by another runner',
    );
  }
  return { applied, alreadyApplied: migrations.length - applied.length };
}
