import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from '../../src/persistence/dataDirLock.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { openPgliteDatabase } from '../../src/persistence/pgliteDatabase.ts';
import { describePostgresOnly } from '../helpers/engines.ts';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-claim-'));
  dirs.push(dir);
  return dir;
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('PGlite data directory', () => {
  it('is refused to a second opener while held, naming the holder, and free again after release', async () => {
    const dir = await tempDir();
    const release = await lockDataDir(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'ERR_DATA_DIR_IN_USE',
      details: { pid: process.pid },
    });
    await release();
    const again = await lockDataDir(dir);
    await again();
  });

  it('takes over a lock file left by a process that died', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), `${deadPid()}\n`);
    const release = await lockDataDir(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await release();
  });

  it('keeps a second PGlite out of an open data directory', async () => {
    const dir = await tempDir();
    const first = await openPgliteDatabase({ dataDir: dir });
    await expect(openPgliteDatabase({ dataDir: dir })).rejects.toMatchObject({
      code: 'ERR_DATA_DIR_IN_USE',
    });
    await first.query('SELECT 1');
    await first.close();
    const second = await openPgliteDatabase({ dataDir: dir });
    expect((await second.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await second.close();
  }, 60_000);
});

describePostgresOnly('runtime claim on PostgreSQL', (engine) => {
  /** A second pool on the same database as `db`, as another runtime would open. */
  function openOther(location: string) {
    const url = new URL(process.env.DATABASE_URL as string);
    url.pathname = location.slice(location.lastIndexOf('/'));
    return openPgDatabase({ connectionString: url.toString() });
  }

  // Issue 18: the release resolved before the server had dropped the lock.
  it('is free for another connection the moment its release resolves, 200 times in a row', async () => {
    const db = await engine.openMigrated();
    const other = await openOther(db.location);
    try {
      const sides = [db, other];
      let refused = 0;
      for (let i = 0; i < 200; i++) {
        const side = sides[i % 2] as typeof db;
        const next = sides[(i + 1) % 2] as typeof db;
        const release = await side.claimRuntime(() => {});
        if (release === null) refused++;
        // The next claim runs on a connection already open, as a running runtime's would.
        await next.query('SELECT 1');
        await release?.();
      }
      expect(refused).toBe(0);
    } finally {
      await other.close();
      await db.close();
    }
  });

  it('is free for another connection once released after its session failed', async () => {
    const db = await engine.openMigrated();
    const other = await openOther(db.location);
    try {
      const lost: Error[] = [];
      const release = await db.claimRuntime((error) => lost.push(error));
      await other.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      await expect.poll(() => lost.length, { timeout: 5_000 }).toBe(1);
      await release?.();
      const next = await other.claimRuntime(() => {});
      expect(next).not.toBeNull();
      await next?.();
    } finally {
      await other.close();
      await db.close();
    }
  });

  it('is held by one runtime at a time and reported lost when its connection dies', async () => {
    const db = await engine.openMigrated();
    const other = await openOther(db.location);
    try {
      const lost: Error[] = [];
      const release = await db.claimRuntime((error) => lost.push(error));
      expect(release).not.toBeNull();
      expect(await other.claimRuntime(() => {})).toBeNull();
      await release?.();
      const second = await other.claimRuntime((error) => lost.push(error));
      expect(second).not.toBeNull();
      expect(await db.claimRuntime(() => {})).toBeNull();

      // An administrator (or a network cut) ends the holding session.
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      await expect.poll(() => lost.length, { timeout: 5_000 }).toBe(1);
      await second?.();
      const third = await db.claimRuntime(() => {});
      expect(third).not.toBeNull();
      await third?.();
    } finally {
      await other.close();
      await db.close();
    }
  });
});
