// The server is SIGKILLed while a client answers over WebSocket; after each restart the
// client reconnects, gets every pending question again, and every acknowledged answer is
// in the journal exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { TOKENS } from '../helpers/server.ts';

const CHILD = new URL('../helpers/serverChild.ts', import.meta.url).pathname;
const SUPERVISORS = 50;
const CYCLES = 4;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function startChild(databaseUrl: string, port: number, create: number, passivateAfterMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      SUPERVISORS: String(create),
      PASSIVATE_AFTER_MS: String(passivateAfterMs),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { ready?: { restored: number } };
      if (message.ready) resolve(message.ready.restored);
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`child ended (${code ?? signal}) before ready`)),
    );
  });
  return { child, ready };
}

interface Connection {
  /** Supervisors whose questions came with the subscription, before anything was answered. */
  resent: Set<string>;
  closed: Promise<void>;
}

/**
 * Connects, subscribes to all, and answers every question as it arrives (after up to
 * `maxDelayMs`, so that supervisors sit idle in between), recording acks.
 */
function answerer(
  url: string,
  acked: Array<{ supervisorId: string; questionId: string; duplicate: boolean }>,
  maxDelayMs: number,
): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKENS.alice}` } });
    const resent = new Set<string>();
    let subscribed = false;
    let n = 0;
    const closed = new Promise<void>((done) => ws.on('close', () => done()));
    ws.on('error', reject);
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'subscribe', requestId: 'sub', all: true })),
    );
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.type === 'question.asked') {
        if (!subscribed) resent.add(frame.supervisorId);
        // An acknowledged answer is final: the client never sends it again, so an ack that
        // came before the commit would show up as an answer missing from the journal.
        if (
          acked.some(
            (a) => a.supervisorId === frame.supervisorId && a.questionId === frame.questionId,
          )
        ) {
          return;
        }
        const answer = JSON.stringify({
          type: 'answer',
          requestId: `a${++n}`,
          supervisorId: frame.supervisorId,
          questionId: frame.questionId,
          value: true,
        });
        if (maxDelayMs === 0) ws.send(answer);
        else {
          setTimeout(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send(answer);
          }, Math.random() * maxDelayMs);
        }
      }
      if (frame.type === 'answer.ack') acked.push(frame);
      if (frame.type === 'subscribed') {
        subscribed = true;
        resolve({ resent, closed });
      }
    });
  });
}

/** The most supervisors /healthz reported passivated while polled until `until` settles. */
async function watchPassivated(port: number, until: Promise<unknown>): Promise<number> {
  let most = 0;
  let done = false;
  void until.finally(() => {
    done = true;
  });
  while (!done) {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.json() as Promise<{ supervisorsPassivated?: number }>)
      .catch(() => ({ supervisorsPassivated: 0 }));
    most = Math.max(most, health.supervisorsPassivated ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return most;
}

describePostgresOnly('server killed with clients connected', (engine) => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  async function killRepeatedly(options: { passivateAfterMs: number; maxDelayMs: number }) {
    const database = await engine.openMigrated();
    const databaseUrl = new URL(process.env.DATABASE_URL as string);
    databaseUrl.pathname = database.location.slice(database.location.lastIndexOf('/'));
    const port = await freePort();
    const acked: Array<{ supervisorId: string; questionId: string; duplicate: boolean }> = [];
    let passivated = 0;
    try {
      for (let round = 0; round <= CYCLES; round++) {
        const started = startChild(
          databaseUrl.toString(),
          port,
          round === 0 ? SUPERVISORS : 0,
          options.passivateAfterMs,
        );
        child = started.child;
        const restored = await started.ready;
        if (round > 0) expect(restored, `round ${round}`).toBe(SUPERVISORS);
        const connection = await answerer(`ws://127.0.0.1:${port}/ws`, acked, options.maxDelayMs);
        // Every supervisor always has exactly one pending question: all of them come again.
        expect(connection.resent.size, `round ${round}`).toBe(SUPERVISORS);
        const running = new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
        const watched = watchPassivated(port, running);
        await running;
        passivated = Math.max(passivated, await watched);
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
        await connection.closed;
      }
      expect(acked.filter((a) => !a.duplicate).length).toBeGreaterThan(SUPERVISORS);
      const { rows } = await database.query<{ key: string; n: number }>(
        `SELECT supervisor_id || '/' || (payload->>'questionId') AS key, count(*)::int AS n
         FROM supervisor_events WHERE kind = 'question_answered' GROUP BY 1`,
      );
      const journal = new Map(rows.map((r) => [r.key, r.n]));
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      const missing = acked.filter((a) => journal.get(`${a.supervisorId}/${a.questionId}`) !== 1);
      expect(missing).toEqual([]);
      return { passivated };
    } finally {
      await database.close();
    }
  }

  it(`re-sends every pending question after each of ${CYCLES} SIGKILLs and applies every acked answer once`, async () => {
    await killRepeatedly({ passivateAfterMs: 0, maxDelayMs: 0 });
  }, 120_000);

  it('does the same while idle supervisors are passivated and brought back between answers', async () => {
    const { passivated } = await killRepeatedly({ passivateAfterMs: 40, maxDelayMs: 150 });
    expect(passivated).toBeGreaterThan(0);
  }, 120_000);
});
