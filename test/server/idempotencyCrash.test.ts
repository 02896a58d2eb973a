// Issue 15, item 4, acceptance: an event sent with an Idempotency-Key commits, the runtime
// is SIGKILLed before its reply reaches the client, and the same request sent again to
// the next runtime on the same database is answered from the committed entry: the event
// applied once. The reply is lost by a TCP proxy that forwards the request and drops
// whatever comes back.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { openPgliteDatabase } from '../../src/persistence/pgliteDatabase.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { type Stack, startStack, TOKENS } from '../helpers/server.ts';
import { startTcpProxy } from '../helpers/tcpProxy.ts';
import { waitFor } from '../helpers/waitFor.ts';

const CHILD = new URL('../helpers/idempotencyChild.ts', import.meta.url).pathname;

/** The runtime in a child process over the database `env` names; resolves its port. */
function startChild(env: Record<string, string>): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const message = JSON.parse(line) as { ready?: { port: number } };
      if (message.ready) resolve(message.ready.port);
    });
    child.on('exit', (code, signal) => reject(new Error(`child ended (${code ?? signal})`)));
  });
  return { child, port };
}

const request = (url: string, path: string, init: { body?: unknown; key?: string } = {}) =>
  fetch(`${url}${path}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${TOKENS.alice}`,
      'content-type': 'application/json',
      ...(init.key === undefined ? {} : { 'idempotency-key': init.key }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

interface KeyedEntry {
  version: number;
  payload: { idempotencyKey?: string };
}

describeEachEngine('idempotency across a crash', (engine) => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * The database of the test, and how the child opens it, and how the test reads it
   * while the child holds it (PGlite has one process: through the child's journal route).
   */
  async function database(): Promise<{
    env: Record<string, string>;
    reopen: () => Promise<Database>;
  }> {
    if (engine.name === 'postgres') {
      const db = await engine.openMigrated();
      cleanups.push(() => db.close());
      const url = new URL(process.env.DATABASE_URL as string);
      url.pathname = db.location.slice(db.location.lastIndexOf('/'));
      return { env: { DATABASE_URL: url.toString() }, reopen: async () => db };
    }
    const dataDir = await mkdtemp(join(tmpdir(), 'steward-idem-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    return {
      env: { DATA_DIR: dataDir },
      reopen: async () => {
        const db = await openPgliteDatabase({ dataDir });
        cleanups.push(() => db.close());
        return db;
      },
    };
  }

  it('applies an event once when the runtime is killed between its commit and its reply, and the request comes again', async () => {
    const { env, reopen } = await database();
    const { child, port } = startChild(env);
    cleanups.push(() => child.kill('SIGKILL'));
    const direct = `http://127.0.0.1:${await port}`;
    const created = await request(direct, '/supervisors', {
      body: { machineId: 'tally', input: {} },
    });
    const { id } = (await created.json()) as { id: string };

    const proxy = await startTcpProxy({ host: '127.0.0.1', port: await port });
    cleanups.push(() => proxy.close());
    proxy.withholdReplies();
    const key = randomUUID();
    const lost = request(`http://127.0.0.1:${proxy.port}`, `/supervisors/${id}/events`, {
      body: { type: 'add' },
      key,
    });
    lost.catch(() => {});

    // Read from the database (through the child's journal route: it holds the database).
    let committed: KeyedEntry | undefined;
    await waitFor('the keyed entry committed', async () => {
      const page = (await (await request(direct, `/supervisors/${id}/journal`)).json()) as {
        entries: KeyedEntry[];
      };
      committed = page.entries.find((e) => e.payload.idempotencyKey === key);
      return committed !== undefined;
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await proxy.close();

    const db = await reopen();
    const stack: Stack = await startStack(db, { restore: true });
    cleanups.push(() => stack.server.close());
    cleanups.push(() => stack.host.stop());
    const again = await request(stack.server.url, `/supervisors/${id}/events`, {
      body: { type: 'add' },
      key,
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual({ version: committed?.version });
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM supervisor_events WHERE payload->>'idempotencyKey' = $1`,
      [key],
    );
    expect(rows[0]?.n).toBe(1);
    const stored = await stack.host.get(id);
    expect((stored.snapshot as { context: { count: number } }).context.count).toBe(1);
    expect(stored.version).toBe(committed?.version);
  });
});
