// `steward serve` as a real child process in front of a TCP proxy to PostgreSQL, for the
// database-fault tests: the test cuts, blackholes and freezes; it watches the process from
// outside (logs, HTTP, WebSocket) like an operator and a client would.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { steward } from './cli.ts';
import type { TestEngine } from './engines.ts';
import { databaseUrlFor } from './postgresUrls.ts';
import { TOKENS } from './server.ts';
import { startTcpProxy, type TcpProxy } from './tcpProxy.ts';

export { TOKENS };

const TEST_MACHINES = new URL('./testMachines.ts', import.meta.url).pathname;
const STEWARD = new URL('../../src/index.ts', import.meta.url).pathname;

/** One JSON log line of the runtime. */
export interface LogLine {
  msg: string;
  level: number;
  time: string;
  [key: string]: unknown;
}

export interface FaultRuntime {
  child: ChildProcess;
  /** Every log line so far. */
  logs: LogLine[];
  /** `http://127.0.0.1:port`, once it listens. */
  url: string;
  wsUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line (already logged or coming) that matches. */
  logged(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** `/readyz` now: its status code, or 0 when nothing answers. */
  readyz(): Promise<number>;
  /** A JSON request with alice's token. */
  api(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** A proxy in front of the test's database, and the URL that goes through it. */
export async function proxiedUrl(db: Database): Promise<{ proxy: TcpProxy; url: string }> {
  const direct = new URL(process.env.DATABASE_URL as string);
  const proxy = await startTcpProxy({
    host: direct.hostname,
    port: Number(direct.port || 5432),
  });
  onTestFinished(() => proxy.close());
  const url = new URL(direct);
  url.host = `127.0.0.1:${proxy.port}`;
  url.pathname = db.location.slice(db.location.lastIndexOf('/'));
  return { proxy, url: url.toString() };
}

/** Where runtimes started one after another keep their data: what `startFaultRuntime` takes. */
export interface RuntimeData {
  databaseUrl?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A database of its own for the runtimes a crash test starts one after another on
 * `engine`: a fresh migrated PostgreSQL database, or a PGlite data directory. Dropped (or
 * removed) after the test.
 */
export async function crashTestData(engine: TestEngine): Promise<RuntimeData> {
  if (engine.name === 'postgres') {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    // `location` names the database without credentials; the URL of the suite has them.
    const name = db.location.slice(db.location.lastIndexOf('/') + 1);
    return { databaseUrl: databaseUrlFor(process.env.DATABASE_URL as string, name) };
  }
  const dir = await mkdtemp(join(tmpdir(), 'steward-crash-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return { env: { STEWARD_DATA_DIR: join(dir, 'data') } };
}

/** SIGKILLs a runtime and waits until it is gone. */
export async function killRuntime(runtime: FaultRuntime): Promise<void> {
  runtime.child.kill('SIGKILL');
  const exited = await runtime.exited;
  if (exited.signal !== 'SIGKILL') throw new Error(`the runtime exited ${JSON.stringify(exited)}`);
}

/**
 * Starts `steward serve` (from the sources, in its own process) hosting the test machines
 * on `databaseUrl`; `waitUntilListening: false` returns at once (a start that waits for its
 * database). Killed after the test if it is still running.
 */
export async function startFaultRuntime(options: {
  /** PostgreSQL; without it the runtime uses PGlite (give `STEWARD_DATA_DIR` in `env`). */
  databaseUrl?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  waitUntilListening?: boolean;
}): Promise<FaultRuntime> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-fault-'));
  const config = join(dir, 'steward.config.ts');
  await writeFile(
    config,
    [
      `import { defineConfig } from ${JSON.stringify(STEWARD)};`,
      `import { testRegistry } from ${JSON.stringify(TEST_MACHINES)};`,
      'export default defineConfig({ machines: testRegistry().list(), passivateAfterMs: 0 });',
    ].join('\n'),
  );
  const { DATABASE_URL: _unused, ...env } = process.env;
  const child = spawn(
    process.execPath,
    steward('serve', '--config', config, '--port', '0', ...(options.args ?? [])),
    {
      env: {
        ...env,
        ...(options.databaseUrl === undefined ? {} : { DATABASE_URL: options.databaseUrl }),
        STEWARD_TOKENS: `alice:${TOKENS.alice}`,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  onTestFinished(async ({ task }) => {
    // What the runtime said is what explains a failure: shown with it.
    if (task.result?.state === 'fail') {
      const tail = logs.slice(-40).map((l) => {
        const { msg, time, level, pid: _pid, name: _name, ...rest } = l;
        return `${time} ${level} ${msg} ${JSON.stringify(rest).slice(0, 300)}`;
      });
      console.log(
        `runtime log, last 40 lines:\n${tail.join('\n')}\n${stderr.join('').slice(-2000)}`,
      );
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const logs: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text, level: 0, time: '' };
    }
    logs.push(line);
    for (const watch of watchers) watch(line);
  });

  function logged(match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(
          new Error(
            `no such log line within ${timeoutMs} ms; last: ${logs
              .slice(-8)
              .map((l) => l.msg)
              .join(' | ')} ${stderr.join('')}`,
          ),
        );
      }, timeoutMs);
      const watch = (line: LogLine) => {
        if (!match(line)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(line);
      };
      watchers.add(watch);
    });
  }

  const runtime: FaultRuntime = {
    child,
    logs,
    url: '',
    wsUrl: '',
    exited,
    logged,
    async readyz() {
      try {
        const response = await fetch(`${runtime.url}/readyz`, {
          signal: AbortSignal.timeout(2_000),
        });
        await response.body?.cancel();
        return response.status;
      } catch {
        return 0;
      }
    },
    async api(path, body) {
      const response = await fetch(`${runtime.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
  const listening = logged((l) => l.msg.startsWith('Steward listening on'), 60_000).then((line) => {
    runtime.url = String(line.url);
    runtime.wsUrl = `${runtime.url.replace(/^http/, 'ws')}/ws`;
  });
  if (options.waitUntilListening !== false) await listening;
  else listening.catch(() => {});
  return runtime;
}
