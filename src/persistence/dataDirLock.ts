import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StewardError } from '../errors.ts';

/** The file that says which process has a PGlite data directory open. */
export const LOCK_FILE = 'steward.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function create(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Takes a PGlite data directory for this process: PGlite does not stop two processes from
 * opening the same files, and two would corrupt them. A lock file left by a process that
 * died (SIGKILL, power cut) is taken over. Resolves to the release function; throws
 * `ERR_DATA_DIR_IN_USE` naming the holder's pid when a live process holds it.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await create(path)) return () => rm(path, { force: true });
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new StewardError(
        'ERR_DATA_DIR_IN_USE',
        `the data directory ${dataDir} is in use by process ${holder} (another Steward?); stop it first, or use another --data-dir`,
        { dataDir, pid: holder },
      );
    }
    // Left by a process that is gone: remove it and try once more (another process
    // taking it over at the same moment wins the `wx` create, and this one reports it).
    await rm(path, { force: true });
  }
  throw new StewardError(
    'ERR_DATA_DIR_IN_USE',
    `the data directory ${dataDir} was taken by another process while this one started`,
    { dataDir },
  );
}
