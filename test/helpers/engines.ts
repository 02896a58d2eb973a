import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, inject, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { openPgliteDatabase } from '../../src/persistence/pgliteDatabase.ts';
import { adminUrl, databaseUrlFor, quoteIdent } from './postgresUrls.ts';

/** One database engine the suite runs on. */
export interface TestEngine {
  name: 'pglite' | 'postgres';
  /** A fresh database with every migration applied; dropped when closed. */
  openMigrated(options?: { max?: number }): Promise<Database>;
  /** A fresh database with nothing in it; dropped when closed. */
  openEmpty(options?: { max?: number }): Promise<Database>;
}

const templates = new Map<string, Blob>();

async function openPgliteCopy(file: string): Promise<Database> {
  let template = templates.get(file);
  if (!template) {
    template = new Blob([await readFile(file)]);
    templates.set(file, template);
  }
  return openPgliteDatabase({ dataDir: 'memory', loadDataDir: template });
}

const pgliteEngine: TestEngine = {
  name: 'pglite',
  openMigrated() {
    return openPgliteCopy(inject('pgliteTemplateFile'));
  },
  openEmpty() {
    return openPgliteCopy(inject('pgliteBlankFile'));
  },
};

async function createPgDatabase(template: string, max?: number): Promise<Database> {
  const url = process.env.DATABASE_URL as string;
  const name = `steward_t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = await openPgDatabase({ connectionString: adminUrl(url) });
  try {
    await admin.exec(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
  } finally {
    await admin.close();
  }
  const db = await openPgDatabase({
    connectionString: databaseUrlFor(url, name),
    ...(max ? { max } : {}),
  });
  return {
    ...db,
    async close() {
      await db.close();
      const dropper = await openPgDatabase({ connectionString: adminUrl(url) });
      await dropper.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      await dropper.close();
    },
  };
}

const postgresEngine: TestEngine = {
  name: 'postgres',
  openMigrated(options) {
    return createPgDatabase(inject('postgresTemplate') as string, options?.max);
  },
  openEmpty(options) {
    return createPgDatabase('template0', options?.max);
  },
};

/** True when the PostgreSQL leg runs (DATABASE_URL set). */
export const hasPostgres = Boolean(process.env.DATABASE_URL);

/** The engines to run on: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const engines: TestEngine[] = hasPostgres ? [pgliteEngine, postgresEngine] : [pgliteEngine];

/** Runs the same tests on every engine; a skipped PostgreSQL leg says why in its title. */
export function describeEachEngine(title: string, body: (engine: TestEngine) => void): void {
  for (const engine of engines) describe(`${title} [${engine.name}]`, () => body(engine));
  if (!hasPostgres) skippedPostgresLeg(title);
}

function skippedPostgresLeg(title: string): void {
  describe.skip(`${title} [postgres: skipped, DATABASE_URL is unset]`, () => {
    it('runs when DATABASE_URL names a PostgreSQL server', () => {});
  });
}

/** The PostgreSQL engine, for tests that need a real pool (concurrency, several runners). */
export function describePostgresOnly(title: string, body: (engine: TestEngine) => void): void {
  if (hasPostgres) describe(`${title} [postgres]`, () => body(postgresEngine));
  else skippedPostgresLeg(title);
}
