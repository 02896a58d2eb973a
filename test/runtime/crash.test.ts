// A runtime killed with SIGKILL keeps every answer it acknowledged.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { describePostgresOnly } from '../helpers/engines.ts';

interface Ack {
  id: string;
  questionId: string;
  version: number;
}

const CHILD = new URL('../helpers/crashChild.ts', import.meta.url).pathname;

/** Runs the child until `killAfter` acknowledgements, then SIGKILLs it. */
function runAndKill(databaseUrl: string, killAfter: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acks: Ack[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { acked?: Ack; done?: boolean };
      if (message.acked) acks.push(message.acked);
      if ((acks.length >= killAfter || message.done) && child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`child exited without being killed (signal ${signal})`));
    });
  });
}

describePostgresOnly('a runtime killed with SIGKILL', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  it('has every answer it acknowledged in the database when reopened', async () => {
    const url = new URL(process.env.DATABASE_URL as string);
    url.pathname = db.location.slice(db.location.lastIndexOf('/'));
    for (const killAfter of [1, 37, 120]) {
      const acks = await runAndKill(url.toString(), killAfter);
      expect(acks.length).toBeGreaterThanOrEqual(killAfter);
      const { rows } = await db.query<{ key: string; version: string }>(
        `SELECT e.supervisor_id || '/' || (e.payload->>'questionId') AS key, s.version
         FROM supervisor_events e JOIN supervisor_states s ON s.id = e.supervisor_id
         WHERE e.kind = 'question_answered'`,
      );
      const stored = new Map(rows.map((r) => [r.key, Number(r.version)]));
      for (const ack of acks) {
        const rowVersion = stored.get(`${ack.id}/${ack.questionId}`);
        expect(rowVersion, `${ack.id}/${ack.questionId}`).toBeGreaterThanOrEqual(ack.version);
      }
      const { rows: pending } = await db.query<{ id: string; questions: string[] }>(
        `SELECT id, ARRAY(SELECT q->>'id' FROM jsonb_array_elements(pending_questions) q) AS questions
         FROM supervisor_states`,
      );
      const stillPending = new Set(pending.flatMap((p) => p.questions.map((q) => `${p.id}/${q}`)));
      for (const ack of acks) expect(stillPending.has(`${ack.id}/${ack.questionId}`)).toBe(false);
    }
  }, 60_000);
});
