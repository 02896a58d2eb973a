// 20 restarts by SIGKILL at random moments under a stream of answers.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { describePostgresOnly } from '../helpers/engines.ts';

const CHILD = new URL('../helpers/restartChild.ts', import.meta.url).pathname;
const SUPERVISORS = 200;
const CYCLES = 20;

interface Cycle {
  restored: number;
  askedBeforeAnswering: Set<string>;
  acked: Array<{ id: string; questionId: string; version: number; duplicate: boolean }>;
}

/** Runs the child, lets it answer for a random moment after it is ready, SIGKILLs it. */
function cycle(databaseUrl: string, create: number): Promise<Cycle> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        SUPERVISORS: String(create),
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const result: Cycle = { restored: -1, askedBeforeAnswering: new Set(), acked: [] };
    let ready = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as {
        asked?: { id: string };
        ready?: { restored: number };
        acked?: Cycle['acked'][number];
      };
      if (message.asked && !ready) result.askedBeforeAnswering.add(message.asked.id);
      if (message.acked) result.acked.push(message.acked);
      if (message.ready) {
        ready = true;
        result.restored = message.ready.restored;
        setTimeout(() => child.kill('SIGKILL'), 50 + Math.random() * 400);
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(result) : reject(new Error(`child ended by ${signal}`)),
    );
  });
}

describePostgresOnly('restarts by SIGKILL', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  it(`keeps every acknowledged answer exactly once and brings every supervisor back, ${CYCLES} times`, async () => {
    const url = new URL(process.env.DATABASE_URL as string);
    url.pathname = db.location.slice(db.location.lastIndexOf('/'));
    const acked: Cycle['acked'] = [];
    for (let round = 0; round <= CYCLES; round++) {
      const result = await cycle(url.toString(), round === 0 ? SUPERVISORS : 0);
      acked.push(...result.acked);
      if (round > 0) {
        expect(result.restored, `round ${round}`).toBe(SUPERVISORS);
        // Every pending question is asked again on the stream, before any new answer.
        expect(result.askedBeforeAnswering.size, `round ${round}`).toBe(SUPERVISORS);
      }
      const { rows: counts } = await db.query<{ n: number; min: number; max: number }>(
        `SELECT count(*)::int AS n, min(restoration_count) AS min, max(restoration_count) AS max
         FROM supervisor_states`,
      );
      expect(counts[0]).toEqual({ n: SUPERVISORS, min: round, max: round });
      const { rows: journal } = await db.query<{ key: string; n: number }>(
        `SELECT supervisor_id || '/' || (payload->>'questionId') AS key, count(*)::int AS n
         FROM supervisor_events WHERE kind = 'question_answered' GROUP BY 1`,
      );
      const stored = new Map(journal.map((r) => [r.key, r.n]));
      expect([...stored.values()].every((n) => n === 1)).toBe(true);
      for (const ack of acked) expect(stored.get(`${ack.id}/${ack.questionId}`)).toBe(1);
    }
    expect(acked.length).toBeGreaterThan(CYCLES);
  }, 240_000);
});
