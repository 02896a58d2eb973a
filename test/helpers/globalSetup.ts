// Prepares one migrated database per engine; each test file then starts from a copy of it,
// which is far cheaper than running initdb (PGlite) or every migration again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/persistence/migrator.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { openPgliteDatabase } from '../../src/persistence/pgliteDatabase.ts';
import { adminUrl, databaseUrlFor, quoteIdent } from './postgresUrls.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplateFile: string;
    pgliteBlankFile: string;
    postgresTemplate: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-test-'));
  const pglite = await openPgliteDatabase({ dataDir: 'memory' });
  const blankFile = join(dir, 'pglite-blank.tar');
  await writeFile(blankFile, Buffer.from(await (await pglite.dumpDataDir()).arrayBuffer()));
  project.provide('pgliteBlankFile', blankFile);
  await migrate(pglite);
  const templateFile = join(dir, 'pglite-template.tar');
  await writeFile(templateFile, Buffer.from(await (await pglite.dumpDataDir()).arrayBuffer()));
  await pglite.close();
  project.provide('pgliteTemplateFile', templateFile);

  let template: string | null = null;
  const url = process.env.DATABASE_URL;
  if (url) {
    template = `${new URL(url).pathname.slice(1) || 'steward'}_template`;
    const admin = await openPgDatabase({ connectionString: adminUrl(url) });
    await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(template)} WITH (FORCE)`);
    await admin.exec(`CREATE DATABASE ${quoteIdent(template)}`);
    const db = await openPgDatabase({ connectionString: databaseUrlFor(url, template) });
    await migrate(db);
    await db.close();
    await admin.close();
    console.log(`PostgreSQL leg: running against ${new URL(url).host} (template ${template})`);
  } else {
    console.log('PostgreSQL leg: SKIPPED because DATABASE_URL is unset (PGlite leg runs)');
  }
  project.provide('postgresTemplate', template);

  return async () => {
    await rm(dir, { recursive: true, force: true });
    if (url && template) {
      const admin = await openPgDatabase({ connectionString: adminUrl(url) });
      await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(template)} WITH (FORCE)`);
      await admin.close();
    }
  };
}
