import { afterEach, expect, it } from 'vitest';
import {
  type AnswerAck,
  createStewardClient,
  isStewardClientError,
  type QuestionResolution,
  type StewardClient,
  type SupervisorStatus,
} from '../../src/client/index.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { ALICE, BOB, useStack } from './serverStack.ts';

const fast = { reconnect: { initialMs: 20, maxMs: 200 }, heartbeatMs: 1_000 };

describeEachEngine('client answering', (engine) => {
  const fixture = useStack(engine);
  const clients: StewardClient[] = [];
  const open = (token = ALICE) => {
    const client = createStewardClient({ url: fixture.stack.server.url, token, ...fast });
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('answers every question of 100 survey supervisors, and every row ends answered', async () => {
    const { host } = fixture.stack;
    const spawn = async () => (await host.spawn('survey', { count: 2 }, { owner: 'alice' })).id;
    // Half exist before the client subscribes (sent with the subscription), half after (live).
    const before = await Promise.all(Array.from({ length: 50 }, spawn));
    const client = open();
    const statuses: SupervisorStatus[] = [];
    const resolutions: QuestionResolution[] = [];
    client.events.on('status', (s) => statuses.push(s));
    client.events.on('resolved', (r) => resolutions.push(r));
    expect(await client.subscribe({ all: true })).toEqual({ pendingQuestions: 100 });
    const after = await Promise.all(Array.from({ length: 50 }, spawn));
    const ids = [...before, ...after];

    const acks: Array<Promise<AnswerAck>> = [];
    const yielded = new Set<string>();
    for await (const question of client.questions()) {
      yielded.add(`${question.supervisorId}/${question.questionId}`);
      expect(question.answer).toEqual({ kind: 'number' });
      const value = Number(question.questionId.slice(1)) + 10;
      acks.push(client.answer(question.supervisorId, question.questionId, value));
      if (acks.length === 200) break;
    }
    const settled = await Promise.all(acks);

    expect(yielded.size).toBe(200);
    expect(settled.every((ack) => !ack.duplicate)).toBe(true);
    for (const id of ids) {
      const row = await host.get(id);
      expect(row.pendingQuestions).toEqual([]);
      expect(row.stateValue).toBe('answered');
      expect((row.snapshot as { context: { answers: unknown } }).context.answers).toEqual({
        q0: 10,
        q1: 11,
      });
    }
    await waitFor('every resolution and final status', () => resolutions.length === 200);
    expect(resolutions.every((r) => r.resolution === 'answered')).toBe(true);
    await waitFor('every supervisor reported answered', () => {
      const answered = new Set(
        statuses.filter((s) => s.stateValue === 'answered').map((s) => s.supervisorId),
      );
      return ids.every((id) => answered.has(id));
    });
  });

  it('acks a repeat of the same value as a duplicate and rejects another value with the answer that won', async () => {
    const { id } = await fixture.stack.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const client = open();
    const first = await client.answer(id, 'q0', 1);
    const second = await client.answer(id, 'q0', 1);
    expect(first).toEqual({
      supervisorId: id,
      questionId: 'q0',
      version: first.version,
      duplicate: false,
    });
    expect(second).toMatchObject({ duplicate: true, version: first.version });

    const lost = await client.answer(id, 'q0', 2).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!isStewardClientError(lost, 'ERR_ALREADY_ANSWERED')) {
      throw new Error(`expected ERR_ALREADY_ANSWERED, got ${String(lost)}`);
    }
    // Typed: `recorded` is there without a check once the code is known.
    expect(lost.recorded).toEqual({ value: 1, answeredBy: 'alice', version: first.version });
    const row = await fixture.stack.host.get(id);
    expect(row.version).toBe(first.version);
    expect((row.snapshot as { context: { answers: unknown } }).context.answers).toEqual({ q0: 1 });
  });

  it('rejects refused answers and subscriptions with the server code', async () => {
    const { host } = fixture.stack;
    const { id } = await host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const { id: bobs } = await host.spawn('survey', { count: 1 }, { owner: 'bob' });
    const client = open();
    const refusal = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!isStewardClientError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
      return error;
    };

    const notPending = await refusal(client.answer(id, 'q9', 1));
    expect(notPending.code).toBe('ERR_QUESTION_NOT_PENDING');
    expect(notPending.message).toContain('q9');
    const invalid = await refusal(client.answer(id, 'q0', 'seven'));
    expect(invalid.code).toBe('ERR_ANSWER_INVALID');
    expect(invalid.issues.length).toBeGreaterThan(0);
    expect((await refusal(client.answer(bobs, 'q0', 1))).code).toBe('ERR_SUPERVISOR_NOT_FOUND');
    expect((await refusal(client.answer('not-a-uuid', 'q0', 1))).code).toBe('ERR_MESSAGE_INVALID');
    expect((await refusal(client.subscribe({ owner: 'bob' }))).code).toBe('ERR_FORBIDDEN');

    // Nothing refused was applied; the question still takes a good answer.
    expect((await host.get(id)).pendingQuestions.map((q) => q.id)).toEqual(['q0']);
    expect((await client.answer(id, 'q0', 3)).duplicate).toBe(false);
    // Bob's own client may answer his.
    expect((await open(BOB).answer(bobs, 'q0', 4)).duplicate).toBe(false);
  });

  it('does not yield a question resolved before the consumer took it', async () => {
    const client = open();
    await client.subscribe({ owner: 'alice' });
    const resolved: string[] = [];
    client.events.on('resolved', (r) => resolved.push(`${r.supervisorId}/${r.questionId}`));
    const { id } = await fixture.stack.host.spawn('survey', { count: 2 }, { owner: 'alice' });
    // Someone else answers q0 while the client holds it unread.
    await fixture.stack.host.answer(id, 'q0', 5);
    await waitFor('the resolution of q0', () => resolved.includes(`${id}/q0`));

    const iterator = client.questions()[Symbol.asyncIterator]();
    const next = await iterator.next();
    expect(next.done).toBe(false);
    expect(next.value).toMatchObject({ supervisorId: id, questionId: 'q1', deliveryCount: 1 });
  });
});
