// Issue 12: connections that go silently dead, a start while the database is down, and a
// stop while it is unreachable. Real `steward serve` processes behind a TCP proxy.
import { expect, it, onTestFinished } from 'vitest';
import { answerUntilAcked, createAnswerLog, RETRIED } from '../helpers/answerLoop.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { proxiedUrl, startFaultRuntime, TOKENS } from '../helpers/faultRuntime.ts';
import { journalAgainstAcks } from '../helpers/journalChecks.ts';
import { openTestClient, type TestClient } from '../helpers/wsTestClient.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bound `docs/operations.md` states for answers to resume after connections go dead. */
const HALF_OPEN_BOUND_MS = 15_000;

/** Surveys created over HTTP, and a client answering each of them in turn until stopped. */
async function answering(runtime: Awaited<ReturnType<typeof startFaultRuntime>>, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await runtime.api('/supervisors', {
      machineId: 'survey',
      input: { count: 200 },
    });
    expect(created.status).toBe(201);
    ids.push(created.body.id as string);
  }
  const client: TestClient = await openTestClient(runtime.wsUrl, { token: TOKENS.alice });
  onTestFinished(() => client.close());
  await client.request({ type: 'subscribe', owner: 'alice' });
  const log = createAnswerLog();
  let going = true;
  const loops = ids.map(async (id) => {
    for (let q = 0; q < 200 && going; q++) {
      await answerUntilAcked(client, log, { supervisorId: id, questionId: `q${q}`, value: q });
      await sleep(20);
    }
  });
  return {
    log,
    async stop() {
      going = false;
      await Promise.all(loops);
    },
    settle: Promise.allSettled(loops),
  };
}

describePostgresOnly('connections that go silently dead', (engine) => {
  it(`resumes answers within ${HALF_OPEN_BOUND_MS / 1000} s when every open connection goes dead while new ones work, without a restart`, async () => {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    const { proxy, url } = await proxiedUrl(db);
    const runtime = await startFaultRuntime({ databaseUrl: url });
    const load = await answering(runtime, 10);
    await sleep(2_000);
    const deadAt = Date.now();
    proxy.blackhole();
    await expect
      .poll(() => load.log.acked.some((a) => a.at > deadAt + 100 && !a.duplicate), {
        timeout: 2 * HALF_OPEN_BOUND_MS,
        interval: 50,
      })
      .toBe(true);
    const back = load.log.acked.find((a) => a.at > deadAt + 100 && !a.duplicate) as {
      at: number;
    };
    console.log(`connections dead: answers back ${back.at - deadAt} ms after`);
    await sleep(1_000);
    await load.stop();
    expect(back.at - deadAt).toBeLessThanOrEqual(HALF_OPEN_BOUND_MS);
    expect(runtime.child.exitCode).toBeNull();
    expect([...load.log.refusals.keys()].every((code) => RETRIED.has(code))).toBe(true);
    runtime.child.kill('SIGTERM');
    expect((await runtime.exited).code).toBe(0);
    expect(await journalAgainstAcks(db, load.log.acked)).toEqual({
      lost: [],
      twice: [],
      wrongVersion: [],
    });
  }, 120_000);
});

describePostgresOnly('a start while the database is down', (engine) => {
  it('waits, naming host and port but never the password, and serves once the database is back', async () => {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    const { proxy, url } = await proxiedUrl(db);
    const withPassword = new URL(url);
    withPassword.password = 'hunter2-secret'; // trust auth takes any password
    proxy.cut();
    const runtime = await startFaultRuntime({
      databaseUrl: withPassword.toString(),
      waitUntilListening: false,
    });
    const waiting = await runtime.logged((l) => l.msg.includes('trying again'));
    expect(waiting.msg).toContain(`cannot reach PostgreSQL at 127.0.0.1:${proxy.port}/`);
    await sleep(10_000);
    expect(runtime.child.exitCode).toBeNull();
    proxy.restore();
    await runtime.logged((l) => l.msg.startsWith('Steward listening on'), 30_000);
    const created = await runtime.api('/supervisors', { machineId: 'survey', input: { count: 1 } });
    expect(created.status).toBe(201);
    expect(JSON.stringify(runtime.logs)).not.toContain('hunter2');
    runtime.child.kill('SIGTERM');
    expect((await runtime.exited).code).toBe(0);
  }, 90_000);
});

describePostgresOnly('a stop while the database is unreachable', (engine) => {
  it('exits within the shutdown timeout, saying how many writes were not flushed', async () => {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    const { proxy, url } = await proxiedUrl(db);
    const runtime = await startFaultRuntime({
      databaseUrl: url,
      args: ['--shutdown-timeout', '3000'],
    });
    const load = await answering(runtime, 10);
    await sleep(1_500);
    // Silently dead: the writes in flight now never hear back.
    proxy.blackhole();
    await sleep(300);
    const signalled = Date.now();
    runtime.child.kill('SIGTERM');
    const { code } = await runtime.exited;
    const tookMs = Date.now() - signalled;
    console.log(`stopped ${tookMs} ms after SIGTERM`);
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(3_000 + 4_000);
    const last = runtime.logs.at(-1);
    expect(last?.msg).toMatch(
      /^Steward runtime stopped with [1-9]\d* supervisor writes not flushed within the shutdown timeout; none was acknowledged/,
    );
    await load.settle;
    // What was not flushed was never acknowledged: every ack is in the journal.
    expect(await journalAgainstAcks(db, load.log.acked)).toEqual({
      lost: [],
      twice: [],
      wrongVersion: [],
    });
  }, 90_000);
});
