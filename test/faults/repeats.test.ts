// Issue 12: a repeated answer always gets an answer, and the right one: also when it
// arrives while the supervisor's last commit is on its way, and after the runtime was
// frozen with answers in flight.
import { expect, it, onTestFinished } from 'vitest';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import { answerUntilAcked, createAnswerLog } from '../helpers/answerLoop.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { proxiedUrl, startFaultRuntime, TOKENS } from '../helpers/faultRuntime.ts';
import { journalAgainstAcks } from '../helpers/journalChecks.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const COMMIT_TIMEOUT_MS = 10_000;

describePostgresOnly('repeated answers', (engine) => {
  it('1,000 repeats of a last answer, sent 0–5 ms after it, are all duplicates, each answered within the commit timeout', async () => {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    const { url } = await proxiedUrl(db);
    const runtime = await startFaultRuntime({ databaseUrl: url });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const created = await runtime.api('/supervisors', { machineId: 'quiz', input: { count: 1 } });
      ids.push(created.body.id as string);
    }
    const client = await openTestClient(runtime.wsUrl, { token: TOKENS.alice });
    onTestFinished(() => client.close());
    const replies: Array<{ first: boolean; frame: ServerFrame; ms: number }> = [];
    const ask = async (id: string, first: boolean) => {
      const sent = Date.now();
      const frame = await client.request(
        { type: 'answer', supervisorId: id, questionId: 'q0', value: 1 },
        2 * COMMIT_TIMEOUT_MS,
      );
      replies.push({ first, frame, ms: Date.now() - sent });
    };
    // Each supervisor's only answer finishes it; its repeats race the finishing commit.
    await Promise.all(
      ids.map(async (id) => {
        const original = ask(id, true);
        const repeats = Array.from({ length: 25 }, async () => {
          await sleep(Math.random() * 5);
          await ask(id, false);
        });
        await Promise.all([original, ...repeats]);
      }),
    );
    const repeats = replies.filter((r) => !r.first);
    expect(repeats).toHaveLength(1_000);
    const refused = repeats.filter((r) => r.frame.type !== 'answer.ack').map((r) => r.frame);
    expect(refused).toEqual([]);
    expect(repeats.every((r) => r.frame.type === 'answer.ack' && r.frame.duplicate)).toBe(true);
    expect(
      replies
        .filter((r) => r.first)
        .every((r) => r.frame.type === 'answer.ack' && !r.frame.duplicate),
    ).toBe(true);
    const slowest = Math.max(...replies.map((r) => r.ms));
    console.log(`1,000 repeats: slowest reply ${slowest} ms`);
    expect(slowest).toBeLessThan(COMMIT_TIMEOUT_MS);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM supervisor_events
       WHERE kind = 'question_answered' AND supervisor_id = ANY ($1::uuid[])`,
      [ids],
    );
    expect(rows[0]?.n).toBe(40);
  }, 120_000);

  it('after a 15 s freeze with answers in flight, every answer is acked, acked as a duplicate, or in doubt: never "not durable"', async () => {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    const { url } = await proxiedUrl(db);
    const runtime = await startFaultRuntime({ databaseUrl: url });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await runtime.api('/supervisors', {
        machineId: 'survey',
        input: { count: 100 },
      });
      ids.push(created.body.id as string);
    }
    const client = await openTestClient(runtime.wsUrl, { token: TOKENS.alice });
    onTestFinished(() => client.close());
    const log = createAnswerLog();
    let going = true;
    /** The question each loop is on. */
    const current = new Map<string, number>();
    const loops = ids.map(async (id) => {
      for (let q = 0; q < 100 && going; q++) {
        current.set(id, q);
        // Paced (at most 30 of 100 before the freeze), so answers are left for after it
        // however fast the machine: a loop that finished has nothing left to be acked.
        const paced = sleep(50);
        await answerUntilAcked(client, log, { supervisorId: id, questionId: `q${q}`, value: q });
        await paced;
      }
    });
    await sleep(1_500);
    expect(Math.max(...current.values())).toBeLessThan(50);
    const frozenAt = Date.now();
    runtime.child.kill('SIGSTOP');
    await sleep(15_000);
    runtime.child.kill('SIGCONT');
    await expect
      .poll(() => log.acked.filter((a) => a.at > frozenAt + 15_000).length, { timeout: 20_000 })
      .toBeGreaterThan(100);
    going = false;
    await Promise.all(loops);
    console.log('after the freeze:', Object.fromEntries(log.refusals), 'acked:', log.acked.length);
    // The only "not now" it may say is "in doubt": it never lost the database.
    expect([...log.refusals.keys()].filter((code) => code !== 'ERR_COMMIT_IN_DOUBT')).toEqual([]);
    runtime.child.kill('SIGTERM');
    expect((await runtime.exited).code).toBe(0);
    expect(await journalAgainstAcks(db, log.acked)).toEqual({
      lost: [],
      twice: [],
      wrongVersion: [],
    });
  }, 120_000);
});
