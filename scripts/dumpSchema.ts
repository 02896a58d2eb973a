// Regenerates test/schema.sql from a freshly migrated in-memory database.
import { writeFile } from 'node:fs/promises';
import { dumpSchema, migrate } from '../src/persistence/index.ts';
import { openPgliteDatabase } from '../src/persistence/pgliteDatabase.ts';

const db = await openPgliteDatabase({ dataDir: 'memory' });
try {
  await migrate(db);
  const target = new URL('../test/schema.sql', import.meta.url);
  await writeFile(target, await dumpSchema(db));
  console.log(`wrote ${target.pathname}`);
} finally {
  await db.close();
}
