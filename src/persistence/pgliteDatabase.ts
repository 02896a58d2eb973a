import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Database, NotificationHandler, Queryable, QueryResult } from './database.ts';
import { lockDataDir } from './dataDirLock.ts';

/** Options for the embedded engine. */
export interface PgliteDatabaseOptions {
  /** A directory for the data files, or `memory` for a database that lives in this process. */
  dataDir: string;
  /** A tarball from `dumpDataDir()` to start from (tests clone a migrated database). */
  loadDataDir?: Blob | File;
}

interface PgliteLike {
  query<Row>(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: Row[]; affectedRows?: number | undefined }>;
  exec(sql: string): Promise<unknown>;
}

/** The embedded engine, which can also copy its files (tests clone a migrated database). */
export interface PgliteDatabase extends Database {
  /** The database's files as a tarball that `loadDataDir` can start from. */
  dumpDataDir(): Promise<Blob | File>;
}

function wrap(engine: PgliteLike): Queryable {
  return {
    async query<Row>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const result = await engine.query<Row>(text, params as unknown[] | undefined);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await engine.exec(sql);
    },
  };
}

/**
 * Opens embedded PostgreSQL (PGlite, WASM) in this process. It has a single connection,
 * so transactions go through PGlite's own `transaction()`, which keeps other callers'
 * statements out of an open transaction. A data directory is this process's alone until
 * `close()`: another open of it fails with `ERR_DATA_DIR_IN_USE`.
 */
export async function openPgliteDatabase(options: PgliteDatabaseOptions): Promise<PgliteDatabase> {
  const inMemory = options.dataDir === 'memory';
  if (!inMemory) await mkdir(options.dataDir, { recursive: true });
  const unlock = inMemory ? async () => {} : await lockDataDir(options.dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(inMemory ? {} : { dataDir: options.dataDir }),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
  } catch (error) {
    await unlock();
    throw error;
  }
  const base = wrap(pglite);
  let closed = false;

  return {
    engine: 'pglite',
    location: inMemory ? 'memory' : options.dataDir,
    query: base.query,
    exec: base.exec,

    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction((tx) => fn(wrap(tx)));
    },

    async listen(channel: string, handler: NotificationHandler) {
      const unsubscribe = await pglite.listen(channel, handler);
      return async () => unsubscribe();
    },

    // The data directory lock taken at open already keeps every other process out.
    claimRuntime: async () => async () => {},
    resetConnections: () => {},

    dumpDataDir() {
      return pglite.dumpDataDir('none');
    },

    async close() {
      if (closed) return;
      closed = true;
      await pglite.close();
      await unlock();
    },
  };
}
