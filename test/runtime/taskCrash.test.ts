// A crash between task failures does not reset the restart budget.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { getSupervisor } from '../../src/persistence/supervisorRepository.ts';
import { listTasks } from '../../src/persistence/taskRepository.ts';
import { describePostgresOnly } from '../helpers/engines.ts';

const CHILD = new URL('../helpers/taskCrashChild.ts', import.meta.url).pathname;

/** Runs the child in a mode until it prints a line with `key`; kills it when asked to. */
function runChild(databaseUrl: string, mode: string, key: string, kill: boolean) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, DATABASE_URL: databaseUrl, MODE: mode, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let found: Record<string, unknown> | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (!(key in message)) return;
      found = message;
      if (kill) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', () => (found ? resolve(found) : reject(new Error(`${mode}: no ${key}`))));
  });
}

describePostgresOnly('a task crash loop across SIGKILL', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  it('still exhausts the restart budget after the process is killed between failures', async () => {
    const url = new URL(process.env.DATABASE_URL as string);
    url.pathname = db.location.slice(db.location.lastIndexOf('/'));
    const { restartedOnce: id } = await runChild(url.toString(), 'spawn', 'restartedOnce', true);
    const { restored } = await runChild(url.toString(), 'restore', 'restored', false);
    expect(restored).toBeGreaterThanOrEqual(1);

    const supervisor = await getSupervisor(db, id as string);
    expect(supervisor).toMatchObject({ state: 'failed', restorationCount: 1 });
    expect(supervisor?.errorMessage).toContain('needed more than 2 restarts');
    const [task] = await listTasks(db, id as string);
    // Attempt 1 threw, attempt 2 was cut by the kill, attempt 3 threw: budget spent.
    expect(task).toMatchObject({ attempts: 3, status: 'failed' });
    const kinds = (await listEvents(db, id as string)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'task_restarted')).toHaveLength(2);
    expect(kinds).toContain('restored');
  }, 60_000);
});
