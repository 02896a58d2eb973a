// Finding and running pgbench, for the baseline (a) and the batch limit.
import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The pgbench binary on `PATH` or in a Debian server's bin directory, newest first. */
export function findPgbench(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'pgbench'))) return join(dir, 'pgbench');
  }
  // Debian keeps the server tools per major version, outside PATH.
  try {
    for (const version of readdirSync('/usr/lib/postgresql').sort(
      (a, b) => Number(b) - Number(a),
    )) {
      const file = join('/usr/lib/postgresql', version, 'bin', 'pgbench');
      if (isExecutable(file)) return file;
    }
  } catch {
    // No /usr/lib/postgresql: not a Debian-packaged server.
  }
  return undefined;
}

/** Which client the server-only figures use: pgbench, or `pg` from Node and why. */
export interface PgbenchChoice {
  pgbench: string | undefined;
  /** Why the Node fallback runs instead, when `pgbench` is undefined. */
  why: string;
}

/** `auto` uses pgbench when it is installed, `node` forces the Node client, `pgbench` requires it. */
export function choosePgbench(setting: string): PgbenchChoice {
  const pgbench = setting === 'node' ? undefined : findPgbench();
  if (!pgbench && setting === 'pgbench') throw new Error('pgbench not found');
  return { pgbench, why: setting === 'node' ? 'BENCH_BASELINE=node' : 'pgbench not found' };
}

/** Runs a program to its end, collecting its output. */
export function runProcess(
  file: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** What pgbench reported: transactions per second and, when printed, how many ran. */
export interface PgbenchReport {
  tps: number;
  transactions: number | null;
}

/** Reads the `tps = ` and `number of transactions actually processed` lines. */
export function parsePgbenchOutput(result: {
  code: number;
  stdout: string;
  stderr: string;
}): PgbenchReport {
  const tps = /^tps = ([\d.]+)/m.exec(result.stdout)?.[1];
  const transactions = /number of transactions actually processed: (\d+)/.exec(result.stdout)?.[1];
  if (result.code !== 0 || !tps) {
    throw new Error(`pgbench failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return { tps: Number(tps), transactions: transactions ? Number(transactions) : null };
}
