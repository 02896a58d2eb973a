// 20 restarts by SIGKILL at random moments under a stream of answers, with eager restore
// and with lazy restore (killed before, during and after first touches).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { waitFor } from '../helpers/waitFor.ts';

const CHILD = new URL('../helpers/restartChild.ts', import.meta.url).pathname;
const SUPERVISORS = 200;
const CYCLES = 20;

type Mode = 'eager' | 'lazy';

interface Cycle {
  restored: number;
  deferred: number;
  askedBeforeAnswering: Set<string>;
  acked: Array<{ id: string; questionId: string; version: number; duplicate: boolean }>;
}

/** Runs the child, lets it answer for a random moment after it is ready, SIGKILLs it. */
function cycle(databaseUrl: string, create: number, mode: Mode): Promise<Cycle> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        SUPERVISORS: String(create),
        RESTORE: mode,
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const result: Cycle = {
      restored: -1,
      deferred: -1,
      askedBeforeAnswering: new Set(),
      acked: [],
    };
    let ready = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as {
        asked?: { id: string };
        ready?: { restored: number; deferred: number };
        acked?: Cycle['acked'][number];
      };
      if (message.asked && !ready) result.askedBeforeAnswering.add(message.asked.id);
      if (message.acked) result.acked.push(message.acked);
      if (message.ready) {
        ready = true;
        result.restored = message.ready.restored;
        result.deferred = message.ready.deferred;
        setTimeout(() => child.kill('SIGKILL'), 50 + Math.random() * 400);
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(result) : reject(new Error(`child ended by ${signal}`)),
    );
  });
}

/**
 * Waits until no backend of the database is still running a statement the killed child
 * sent: PostgreSQL finishes (and commits) a statement whose client is gone, and only then
 * notices. A restore counted by it belongs to the run that sent it.
 */
async function backendsSettled(db: Database): Promise<void> {
  await waitFor("the killed runtime's statements to finish", async () => {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
    );
    return rows[0]?.n === 0;
  });
}

/** Each supervisor's restoration_count. */
async function restoreCounts(db: Database): Promise<Map<string, number>> {
  const { rows } = await db.query<{ id: string; n: number }>(
    'SELECT id, restoration_count AS n FROM supervisor_states',
  );
  return new Map(rows.map((r) => [r.id, r.n]));
}

describePostgresOnly('restarts by SIGKILL', (engine) => {
  let db: Database;
  beforeEach(async () => {
    db = await engine.openMigrated();
  });
  afterEach(() => db.close());

  for (const mode of ['eager', 'lazy'] as const) {
    it(`keeps every acknowledged answer exactly once and brings every supervisor back, ${CYCLES} times (${mode} restore)`, async () => {
      const url = new URL(process.env.DATABASE_URL as string);
      url.pathname = db.location.slice(db.location.lastIndexOf('/'));
      const acked: Cycle['acked'] = [];
      let before = new Map<string, number>();
      for (let round = 0; round <= CYCLES; round++) {
        const result = await cycle(url.toString(), round === 0 ? SUPERVISORS : 0, mode);
        acked.push(...result.acked);
        await backendsSettled(db);
        if (round > 0) {
          // Eager: all rebuilt at start. Lazy: none (all wait for a person), all deferred.
          expect(result.restored, `round ${round}`).toBe(mode === 'eager' ? SUPERVISORS : 0);
          expect(result.deferred, `round ${round}`).toBe(mode === 'eager' ? 0 : SUPERVISORS);
          // Every pending question is asked again on the stream, before any new answer.
          expect(result.askedBeforeAnswering.size, `round ${round}`).toBe(SUPERVISORS);
        }
        const counts = await restoreCounts(db);
        expect(counts.size).toBe(SUPERVISORS);
        const touched = new Set(result.acked.map((a) => a.id));
        for (const [id, count] of counts) {
          const grew = count - (before.get(id) ?? 0);
          if (round === 0) expect(grew).toBe(0);
          // Eager: every restart counts one restore of each. Lazy: one at its first touch
          // (an answer acked in that run was touched; one killed mid-touch may count too).
          else if (mode === 'eager') expect(grew, `round ${round}`).toBe(1);
          else {
            expect([0, 1], `round ${round}`).toContain(grew);
            if (touched.has(id)) expect(grew, `round ${round}`).toBe(1);
          }
        }
        before = counts;
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
  }
});
