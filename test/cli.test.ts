import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../src/persistence/migrator.ts';

const run = promisify(execFile);
const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const TSX = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;

async function steward(args: string[], env: NodeJS.ProcessEnv) {
  const { DATABASE_URL: _unused, ...rest } = process.env;
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], { env: { ...rest, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('steward command', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('migrate applies every migration to the embedded database, then nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-cli-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const first = await steward(['migrate'], { STEWARD_DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(dataDir);
    const migrations = await loadMigrations();
    const logs = first.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; applied?: number });
    expect(logs.find((l) => l.msg === 'database migrated')?.applied).toBe(migrations.length);
    const second = await steward(['migrate'], { STEWARD_DATA_DIR: dataDir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('"applied":0');
  });

  it('serve runs the demo until SIGTERM, then flushes and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-serve-'));
    dirs.push(dir);
    const { DATABASE_URL: _unused, ...rest } = process.env;
    const child = spawn(TSX, [CLI, 'serve'], {
      env: { ...rest, STEWARD_DATA_DIR: join(dir, 'data'), STEWARD_DEMO_ANSWER_DELAY_MS: '100' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const messages: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const { msg } = JSON.parse(line) as { msg: string };
        messages.push(msg);
        if (msg === 'demo answer committed') resolve();
      });
      child.on('exit', () => reject(new Error(`serve exited early: ${messages.join(' | ')}`)));
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(messages.some((m) => m.startsWith('question asked: Approve the plan'))).toBe(true);
    expect(messages.slice(-2)).toEqual(['supervisor host stopped', 'Steward runtime stopped']);
  });

  it('check-migration reports what restoring would do, per machine version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-check-'));
    dirs.push(dir);
    const result = await steward(['check-migration'], { STEWARD_DATA_DIR: join(dir, 'data') });
    expect(result.code).toBe(0);
    const json = result.stdout.slice(result.stdout.indexOf('{\n'));
    expect(JSON.parse(json)).toEqual({ checkMigration: [] });
  });

  it('exits non-zero with one line for an unreachable server', async () => {
    const result = await steward(['migrate'], {
      DATABASE_URL: 'postgres://me:hunter2@127.0.0.1:1/x',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(
      'steward: cannot reach PostgreSQL at 127.0.0.1:1/x: connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  it('exits 2 with usage for an unknown command', async () => {
    const result = await steward(['dance'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "dance"');
  });
});
