// Issue 12: the database cut for 5 s and for 30 s under a stream of answers. The runtime
// is a real `steward serve` process behind a TCP proxy; the client a raw WebSocket one.
import { expect, it, onTestFinished } from 'vitest';
import type { QuestionAskedFrame, ServerFrame } from '../../src/protocol/frames.ts';
import { answerUntilAcked, createAnswerLog, RETRIED } from '../helpers/answerLoop.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { proxiedUrl, startFaultRuntime, TOKENS } from '../helpers/faultRuntime.ts';
import { journalAgainstAcks } from '../helpers/journalChecks.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

const SUPERVISORS = 20;
const QUESTIONS = 60;
/**
 * Each loop answers at most one question per this many ms, so no loop can run out of
 * questions before the last cut is over, however fast the machine: the test answers for
 * about 12 s (≤ 40 questions), and a loop that finished has no answer left to come back.
 */
const PACE_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A node of a cluster (the default on PostgreSQL) and a runtime that claims its database
// alone (cluster off) ride out a cut alike: the node's presence goes with its connection.
// The default rides out a short cut and one past its lease TTL; the runtime alone, a short
// one (its long cut was this test's before nodes were the default), to keep CI short.
const MODES = [
  { mode: 'as a node (cluster on, the default)', args: [], cuts: [5_000, 30_000] },
  { mode: 'alone (cluster off)', args: ['--no-cluster'], cuts: [5_000] },
];

describePostgresOnly('a database cut, seen from outside', (engine) => {
  it.each(MODES)(
    'keeps a runtime $mode running through cuts of $cuts ms: refusals that say so, readiness that tells, every question again, answers back within 5 s, no acked answer lost',
    async ({ args, cuts: lengths }) => {
      const db = await engine.openMigrated();
      onTestFinished(() => db.close());
      const { proxy, url } = await proxiedUrl(db);
      const runtime = await startFaultRuntime({ databaseUrl: url, args });
      const ids: string[] = [];
      for (let i = 0; i < SUPERVISORS; i++) {
        const created = await runtime.api('/supervisors', {
          machineId: 'survey',
          input: { count: QUESTIONS },
        });
        expect(created.status).toBe(201);
        ids.push(created.body.id as string);
      }
      const client = await openTestClient(runtime.wsUrl, { token: TOKENS.alice });
      onTestFinished(() => client.close());
      await client.request({ type: 'subscribe', owner: 'alice' });

      const readiness: Array<{ at: number; status: number }> = [];
      let watching = true;
      const watch = (async () => {
        while (watching) {
          readiness.push({ at: Date.now(), status: await runtime.readyz() });
          await sleep(100);
        }
      })();

      const log = createAnswerLog();
      /** The question each supervisor's loop is on. */
      const current = new Map<string, number>();
      let answering = true;
      /** Why a loop stopped early: shown at once rather than as answers that never resume. */
      const broken: string[] = [];
      const loops = ids.map(async (id) => {
        try {
          for (let q = 0; q < QUESTIONS && answering; q++) {
            current.set(id, q);
            const paced = sleep(PACE_MS);
            await answerUntilAcked(
              client,
              log,
              { supervisorId: id, questionId: `q${q}`, value: q },
              // A reply that never comes shows up as a broken loop within the poll below.
              { replyTimeoutMs: 15_000 },
            );
            await paced;
          }
        } catch (error) {
          broken.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
        }
      });

      const cuts: Array<{ from: number; to: number; onAt: Map<string, number> }> = [];
      for (const length of lengths) {
        await sleep(2_000);
        const from = Date.now();
        const onAt = new Map(current);
        // Questions left for after the cut, or "answers back" cannot be seen.
        expect(Math.max(...onAt.values())).toBeLessThan(QUESTIONS - 10);
        proxy.cut();
        await sleep(length);
        proxy.restore();
        cuts.push({ from, to: Date.now(), onAt });
        // Answers go through again: a fresh ack (not a repeat) after the database is back.
        await expect
          .poll(
            () => {
              expect(broken).toEqual([]);
              return log.acked.some(
                (a) => a.at > (cuts.at(-1) as { to: number }).to && !a.duplicate,
              );
            },
            { timeout: 20_000, interval: 50 },
          )
          .toBe(true);
      }
      await sleep(1_000);
      answering = false;
      await Promise.all(loops);
      expect(broken).toEqual([]);
      watching = false;
      await watch;

      // It never exited, and says so with a graceful stop.
      expect(runtime.child.exitCode).toBeNull();
      runtime.child.kill('SIGTERM');
      expect((await runtime.exited).code).toBe(0);

      for (const cut of cuts) {
        const back = log.acked.find((a) => a.at > cut.to && !a.duplicate) as { at: number };
        console.log(`cut of ${cut.to - cut.from} ms: answers back ${back.at - cut.to} ms after`);
        expect(back.at - cut.to).toBeLessThanOrEqual(5_000);
        // Readiness: 503 during the cut, 200 again after it.
        const during = readiness.filter((r) => r.at > cut.from + 1_000 && r.at < cut.to);
        expect(during.length).toBeGreaterThan(0);
        expect(during.every((r) => r.status === 503)).toBe(true);
        expect(readiness.some((r) => r.at > cut.to && r.status === 200)).toBe(true);
      }

      // Told with a status frame, and every pending question sent again before "available".
      const frames = client.frames;
      const statusAt = (database: string, after: number) =>
        frames.findIndex(
          (f, i) => i > after && f.type === 'runtime.status' && f.database === database,
        );
      let from = -1;
      for (const cut of cuts) {
        const lost = statusAt('unavailable', from);
        const back = statusAt('available', lost);
        expect(lost).toBeGreaterThan(from);
        expect(back).toBeGreaterThan(lost);
        const resent = frames
          .slice(lost, back)
          .filter((f): f is QuestionAskedFrame & ServerFrame => f.type === 'question.asked');
        for (const id of ids) {
          const on = cut.onAt.get(id) ?? 0;
          const asked = new Set(
            resent.filter((f) => f.supervisorId === id).map((f) => f.questionId),
          );
          // Every question after the one in hand was pending all along: each is sent again.
          for (let q = on + 1; q < QUESTIONS; q++) expect(asked.has(`q${q}`)).toBe(true);
        }
        from = back;
      }

      // Refusals said "not now", never anything else, and nothing acked was lost.
      expect([...log.refusals.keys()].every((code) => RETRIED.has(code))).toBe(true);
      expect(log.refusals.get('ERR_DATABASE_UNAVAILABLE') ?? 0).toBeGreaterThan(0);
      console.log('refusals:', Object.fromEntries(log.refusals), 'acked:', log.acked.length);
      const journal = await journalAgainstAcks(db, log.acked);
      expect(journal).toEqual({ lost: [], twice: [], wrongVersion: [] });
    },
    180_000,
  );
});
