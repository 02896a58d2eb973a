import { expect, it } from 'vitest';
import type { ConnectionLoss, QuestionAskedFrame } from '../../src/client/index.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { startStack, stopStack } from '../helpers/server.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { answersInJournal, BOB, useClients, useStack } from './serverStack.ts';
import type { RelayedFrame } from './socketRelay.ts';

const keyOf = (f: { supervisorId?: unknown; questionId?: unknown }) =>
  `${String(f.supervisorId)}/${String(f.questionId)}`;

/** Takes the next question, failing instead of hanging when none comes. */
async function nextQuestion(
  questions: AsyncIterator<QuestionAskedFrame>,
): Promise<QuestionAskedFrame> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('no question came within 5 s')), 5_000),
  );
  const next = await Promise.race([questions.next(), timeout]);
  if (next.done) throw new Error('the question stream ended');
  return next.value;
}

describeEachEngine('client reconnection', (engine) => {
  const fixture = useStack(engine);
  const open = useClients(fixture, {
    reconnect: { initialMs: 20, maxMs: 200 },
    heartbeatMs: 1_000,
  });
  const serverFrames = (connection: number, type: string): RelayedFrame['frame'][] =>
    fixture.relay.frames
      .filter((f) => f.connection === connection && f.frame.type === type)
      .map((f) => f.frame);

  it('gets every pending question again after a drop, yields none twice, and sends an answer made offline once', async () => {
    const { host } = fixture.stack;
    const spawn = async () => (await host.spawn('survey', { count: 2 }, { owner: 'alice' })).id;
    const [s1, s2, s3] = [await spawn(), await spawn(), await spawn()] as [string, string, string];
    const client = open({ subscribe: { all: true } });
    const losses: ConnectionLoss[] = [];
    let connects = 0;
    client.events.on('disconnected', (loss) => losses.push(loss));
    client.events.on('connected', () => connects++);
    const questions = client.questions()[Symbol.asyncIterator]();
    const taken: QuestionAskedFrame[] = [];
    for (let i = 0; i < 6; i++) taken.push(await nextQuestion(questions));
    expect(taken.map(keyOf).sort()).toEqual(
      [s1, s2, s3].flatMap((s) => [`${s}/q0`, `${s}/q1`]).sort(),
    );
    expect(taken.every((q) => q.deliveryCount === 1)).toBe(true);
    await client.answer(s1, 'q0', 1);

    const firstConnection = fixture.relay.connections;
    fixture.relay.cut();
    await waitFor('the client to notice the drop', () => !client.connected);
    await host.answer(s1, 'q1', 2); // answered elsewhere while the client is away
    const offline = client.answer(s2, 'q0', 3);
    await new Promise((resolve) => setTimeout(resolve, 300)); // several refused dials
    expect(await answersInJournal(fixture.db, s2, 'q0')).toBe(0);
    fixture.relay.restore();

    expect(await offline).toMatchObject({ supervisorId: s2, questionId: 'q0', duplicate: false });
    const second = firstConnection + 1;
    await waitFor('the re-subscription', () => serverFrames(second, 'subscribed').length > 0);
    const redelivered = serverFrames(second, 'question.asked');
    const redeliveredKeys = redelivered.map(keyOf).sort();
    const stillPending = [`${s2}/q1`, `${s3}/q0`, `${s3}/q1`];
    // The offline answer and the re-subscription race on the server: s2/q0 may come along.
    expect([stillPending.sort(), [`${s2}/q0`, ...stillPending].sort()]).toContainEqual(
      redeliveredKeys,
    );
    expect(redelivered.every((f) => f.deliveryCount === 2)).toBe(true);

    // The next question yielded is a new one: none of the re-deliveries came out again.
    const { id: s4 } = await host.spawn('survey', { count: 1 }, { owner: 'alice' });
    expect(keyOf(await nextQuestion(questions))).toBe(`${s4}/q0`);
    expect(await answersInJournal(fixture.db, s2, 'q0')).toBe(1);
    expect(connects).toBe(2);
    expect(losses).toEqual([expect.objectContaining({ code: 1006 })]);
  });

  it('takes a subscription back for good: nothing more comes for it, now or after a reconnect', async () => {
    const { host } = fixture.stack;
    const a = (await host.spawn('survey', { count: 3 }, { owner: 'alice' })).id;
    const b = (await host.spawn('survey', { count: 3 }, { owner: 'alice' })).id;
    const client = open();
    await client.subscribe({ supervisorIds: [a] });
    await client.subscribe({ supervisorIds: [a, b] });
    const statusOf = new Set<string>();
    client.events.on('status', (frame) => statusOf.add(frame.supervisorId));

    // `a` is still named by the first subscription: only `b` is taken back on the server.
    await client.unsubscribe({ supervisorIds: [b, a] });
    const unsubscribes = fixture.relay.frames.filter((f) => f.frame.type === 'unsubscribed');
    expect(unsubscribes).toHaveLength(1);
    await host.answer(b, 'q0', 1);
    await host.answer(a, 'q0', 1);
    await waitFor('the status of a', () => statusOf.has(a));
    expect(statusOf.has(b)).toBe(false);

    const before = fixture.relay.connections;
    fixture.relay.cut();
    await waitFor('the client to notice the drop', () => !client.connected);
    fixture.relay.restore();
    await client.connect();
    const next = before + 1;
    await waitFor('the re-subscription', () => serverFrames(next, 'subscribed').length > 0);
    expect(serverFrames(next, 'subscribed')).toHaveLength(1);
    expect(new Set(serverFrames(next, 'question.asked').map((f) => f.supervisorId))).toEqual(
      new Set([a]),
    );

    // A subscription still waiting for its confirmation is rejected when taken back.
    fixture.relay.cut();
    await waitFor('the client to notice the drop', () => !client.connected);
    const waiting = client.subscribe({ owner: 'alice' });
    await client.unsubscribe({ owner: 'alice' });
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_UNSUBSCRIBED' });
    fixture.relay.restore();
    await client.connect();
    await waitFor('the re-subscription', () => serverFrames(next + 1, 'subscribed').length > 0);
    expect(serverFrames(next + 1, 'subscribed')).toHaveLength(1);
  });

  it('sends an answer again when its ack is lost, and the server applies it once', async () => {
    const { id } = await fixture.stack.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const client = open({ heartbeatMs: 150, subscribe: { supervisorIds: [id] } });
    const question = await nextQuestion(client.questions()[Symbol.asyncIterator]());
    const muted = fixture.relay.connections;
    // The server still reads the client, but nothing it sends arrives: not the ack, not the pong.
    fixture.relay.mute();

    const ack = await client.answer(question.supervisorId, question.questionId, 42);

    expect(ack).toMatchObject({ supervisorId: id, questionId: 'q0', duplicate: true });
    expect(serverFrames(muted, 'answer.ack')).toEqual([
      expect.objectContaining({ supervisorId: id, duplicate: false, version: ack.version }),
    ]);
    expect(fixture.relay.connections).toBeGreaterThan(muted);
    expect(await answersInJournal(fixture.db, id, 'q0')).toBe(1);
    const row = await fixture.stack.host.get(id);
    expect((row.snapshot as { context: { answers: unknown } }).context.answers).toEqual({ q0: 42 });
  });

  it('rides through a server restart on the same port, retrying an answer the stopping runtime refused', async () => {
    // Bob has no other supervisors, so `all` brings only this test's questions.
    const { id } = await fixture.stack.host.spawn('survey', { count: 2 }, { owner: 'bob' });
    const client = open({ token: BOB, subscribe: { all: true } });
    const questions = client.questions()[Symbol.asyncIterator]();
    const taken = [await nextQuestion(questions), await nextQuestion(questions)];
    expect(taken.map((q) => q.questionId).sort()).toEqual(['q0', 'q1']);

    const before = fixture.relay.connections;
    await fixture.stack.host.stop();
    const answered = client.answer(id, 'q0', 8);
    await waitFor('the stopping runtime to refuse the answer', () =>
      serverFrames(before, 'error').some((f) => f.code === 'ERR_RUNTIME_STOPPED'),
    );
    await stopStack(fixture.stack);
    fixture.stack = await startStack(fixture.db, {
      port: fixture.stack.server.port,
      restore: true,
    });

    expect(await answered).toMatchObject({ supervisorId: id, questionId: 'q0', duplicate: false });
    expect(await answersInJournal(fixture.db, id, 'q0')).toBe(1);
    const restarted = fixture.relay.connections;
    expect(restarted).toBeGreaterThan(before);
    await waitFor('the re-subscription', () => serverFrames(restarted, 'subscribed').length > 0);
    // A new server's count is its own sends plus its start since q1 was asked (2, not 1
    // again), and the frame is not stale (its version is not below the first one): only the
    // client's memory of taking q1 keeps it from coming out.
    const q1 = taken.find((q) => q.questionId === 'q1');
    // q0 may come along too: the retried answer and the re-subscription race on the server.
    const redelivered = serverFrames(restarted, 'question.asked').filter(
      (f) => f.questionId === 'q1',
    );
    expect(redelivered).toEqual([
      expect.objectContaining({ supervisorId: id, questionId: 'q1', deliveryCount: 2 }),
    ]);
    expect(redelivered[0]?.version).toBeGreaterThanOrEqual(q1?.version ?? Number.POSITIVE_INFINITY);
    const { id: fresh } = await fixture.stack.host.spawn('survey', { count: 1 }, { owner: 'bob' });
    expect(keyOf(await nextQuestion(questions))).toBe(`${fresh}/q0`);
  });
});
