import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { spawnStored } from '../helpers/host.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
const asked = (f: ServerFrame): f is Frame<'question.asked'> => f.type === 'question.asked';

describeEachEngine('websocket protocol', (engine) => {
  const fixture = useServer(engine, { limits: { helloTimeoutMs: 500 } });

  describe('authentication', () => {
    it('greets a bearer token at once and refuses a bad one with 401 on the upgrade', async () => {
      const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      expect(await client.waitFor((f) => f.type === 'hello.ok')).toEqual({
        type: 'hello.ok',
        requestId: null,
        protocol: 1,
        owner: 'alice',
        admin: false,
      });
      await client.close();
      await expect(
        openTestClient(fixture.wsUrl, { token: 'wrong-token-0123456789' }),
      ).rejects.toMatchObject({
        status: 401,
      });
    });

    it('takes a hello frame from a browser, and closes on a bad one or none in time', async () => {
      const browser = await openTestClient(fixture.wsUrl);
      const early = await browser.request({ type: 'subscribe', all: true });
      expect(early).toMatchObject({ type: 'error', code: 'ERR_UNAUTHENTICATED' });
      const ok = await browser.request({ type: 'hello', token: TOKENS.bob, protocol: 1 });
      expect(ok).toMatchObject({ type: 'hello.ok', owner: 'bob' });
      await browser.close();

      const liar = await openTestClient(fixture.wsUrl);
      const refused = await liar.request({
        type: 'hello',
        token: 'not-a-real-token-123',
        protocol: 1,
      });
      expect(refused).toMatchObject({ type: 'error', code: 'ERR_UNAUTHENTICATED' });
      expect(await liar.closed).toBe(4401);

      const silent = await openTestClient(fixture.wsUrl);
      expect(await silent.closed).toBe(4401);
    });

    it('refuses a browser origin that is not allowed, and accepts its own', async () => {
      await expect(
        openTestClient(fixture.wsUrl, {
          token: TOKENS.alice,
          headers: { origin: 'https://evil.example' },
        }),
      ).rejects.toMatchObject({ status: 403 });
      const own = await openTestClient(fixture.wsUrl, {
        token: TOKENS.alice,
        headers: { origin: fixture.server.url },
      });
      await own.close();
    });
  });

  describe('questions and answers', () => {
    it('sends pending questions on subscribe, acks an answer only once it is committed', async () => {
      const { id } = await fixture.host.spawn('survey', { count: 2 }, { owner: 'alice' });
      const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      const subscribed = await client.request({ type: 'subscribe', supervisorIds: [id] });
      expect(subscribed).toMatchObject({ type: 'subscribed', pendingQuestions: 2 });
      const questions = client.frames.filter(asked);
      expect(questions.map((q) => [q.questionId, q.deliveryCount, q.version])).toEqual([
        ['q0', 1, 1],
        ['q1', 1, 1],
      ]);
      expect(questions[0]).toMatchObject({
        answer: { kind: 'number' },
        audience: { kind: 'owner' },
      });

      const ack = await client.request({
        type: 'answer',
        supervisorId: id,
        questionId: 'q0',
        value: 7,
      });
      // The ack comes after the commit: the row already shows the question answered.
      const row = await fixture.host.get(id);
      expect(ack).toMatchObject({
        type: 'answer.ack',
        questionId: 'q0',
        duplicate: false,
        version: 2,
      });
      expect(row.version).toBeGreaterThanOrEqual(2);
      expect(row.pendingQuestions.map((q) => q.id)).toEqual(['q1']);
      expect(await client.waitFor((f) => f.type === 'question.resolved')).toMatchObject({
        questionId: 'q0',
        resolution: 'answered',
        version: 2,
      });
      await client.close();
    });

    it('applies ten simultaneous answers once and reports the rest as duplicates', async () => {
      const { id } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      const clients = await Promise.all(
        Array.from({ length: 5 }, () => openTestClient(fixture.wsUrl, { token: TOKENS.alice })),
      );
      const acks = await Promise.all(
        clients.flatMap((c) =>
          [1, 2].map(() =>
            c.request({ type: 'answer', supervisorId: id, questionId: 'q0', value: 1 }),
          ),
        ),
      );
      expect(acks.every((a) => a.type === 'answer.ack')).toBe(true);
      expect(acks.filter((a) => a.type === 'answer.ack' && !a.duplicate)).toHaveLength(1);
      const journal = (await listEvents(fixture.db, id)).filter(
        (e) => e.kind === 'question_answered',
      );
      expect(journal).toHaveLength(1);
      expect(journal[0]?.payload).toMatchObject({ answeredBy: 'alice' });
      await Promise.all(clients.map((c) => c.close()));
    });

    it('names refused answers with a code and the request id, changing nothing', async () => {
      const { id, version } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ supervisorId: id, questionId: 'nope', value: 1 }, 'ERR_QUESTION_NOT_PENDING'],
        [{ supervisorId: id, questionId: 'q0', value: 'seven' }, 'ERR_ANSWER_INVALID'],
        [{ supervisorId: randomUUID(), questionId: 'q0', value: 1 }, 'ERR_SUPERVISOR_NOT_FOUND'],
        [{ supervisorId: 'not-a-uuid', questionId: 'q0', value: 1 }, 'ERR_MESSAGE_INVALID'],
      ];
      for (const [frame, code] of cases) {
        const reply = await client.request({ type: 'answer', ...frame });
        expect(reply, code).toMatchObject({ type: 'error', code });
        expect((reply as Frame<'error'>).requestId).toMatch(/^t\d+$/);
      }
      expect((await fixture.host.get(id)).version).toBe(version);
      expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
      await client.close();
    });

    it('sends every pending question again on reconnect, counting deliveries', async () => {
      const { id } = await fixture.host.spawn('survey', { count: 3 }, { owner: 'alice' });
      for (const expected of [1, 2, 3]) {
        const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
        await client.request({ type: 'subscribe', supervisorIds: [id] });
        const counts = client.frames.filter(asked).map((q) => q.deliveryCount);
        expect(counts).toEqual([expected, expected, expected]);
        await client.close();
      }
    });

    it('streams status and new questions live to an owner subscription', async () => {
      const client = await openTestClient(fixture.wsUrl, { token: TOKENS.bob });
      expect(await client.request({ type: 'subscribe', owner: 'bob' })).toMatchObject({
        type: 'subscribed',
      });
      const { id } = await fixture.host.spawn(
        'reference',
        { goal: 'g', steps: ['a'] },
        { owner: 'bob' },
      );
      const question = await client.waitFor((f) => asked(f) && f.supervisorId === id);
      expect(question).toMatchObject({ questionId: 'approve-plan', deliveryCount: 1 });
      const status = await client.waitFor(
        (f) => f.type === 'supervisor.status' && f.supervisorId === id,
      );
      expect(status).toMatchObject({ state: 'waiting_for_user', version: 1 });
      await client.close();
    });

    it('stops sending what an unsubscribe takes back, keeping what another subscription covers', async () => {
      const a = await fixture.host.spawn('survey', { count: 3 }, { owner: 'alice' });
      const b = await fixture.host.spawn('survey', { count: 3 }, { owner: 'alice' });
      const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      await client.request({ type: 'subscribe', owner: 'alice' });
      await client.request({ type: 'subscribe', supervisorIds: [a.id] });
      const about = (id: string, from: number) =>
        client.frames.slice(from).filter((f) => 'supervisorId' in f && f.supervisorId === id);
      // A sentinel: frames fan out in commit order, so what was due arrives before the pong.
      const settle = () => client.request({ type: 'ping' });

      expect(await client.request({ type: 'unsubscribe', owner: 'alice' })).toMatchObject({
        type: 'unsubscribed',
      });
      const afterOwner = client.frames.length;
      await fixture.host.answer(b.id, 'q0', 1);
      await fixture.host.answer(a.id, 'q0', 1);
      await client.waitFor((f) => f.type === 'question.resolved' && f.supervisorId === a.id);
      await settle();
      expect(about(b.id, afterOwner)).toEqual([]);
      expect(about(a.id, afterOwner).map((f) => f.type)).toContain('question.resolved');

      expect(await client.request({ type: 'unsubscribe', supervisorIds: [a.id] })).toMatchObject({
        type: 'unsubscribed',
      });
      const afterIds = client.frames.length;
      await fixture.host.answer(a.id, 'q1', 1);
      await settle();
      expect(about(a.id, afterIds)).toEqual([]);

      // Taking back what was never subscribed changes nothing; a bad scope is refused.
      expect(await client.request({ type: 'unsubscribe', owner: 'bob' })).toMatchObject({
        type: 'unsubscribed',
      });
      expect(
        await client.request({ type: 'unsubscribe', owner: 'alice', all: true }),
      ).toMatchObject({ type: 'error', code: 'ERR_MESSAGE_INVALID' });
      await client.request({ type: 'subscribe', supervisorIds: [a.id] });
      await fixture.host.answer(a.id, 'q2', 1);
      await client.waitFor((f) => f.type === 'question.resolved' && f.questionId === 'q2');
      await client.close();
    });

    it('re-sends pending questions after a restore (the resume endpoint)', async () => {
      // Spawned by another host that then stops: stored, not in memory here, as after a crash.
      const id = await spawnStored(fixture.db, 'survey', { count: 1 }, { owner: 'alice' });
      const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      await client.request({ type: 'subscribe', owner: 'alice' });
      expect(client.frames.filter((f) => asked(f) && f.supervisorId === id)).toMatchObject([
        { questionId: 'q0', deliveryCount: 1 },
      ]);
      const response = await fetch(`${fixture.server.url}/supervisors/${id}/resume`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.alice}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        resumed: 'restored',
        restoration: { supervisorId: id, source: 'manual', restorationCount: 1 },
      });
      const again = await client.waitFor(
        (f) => asked(f) && f.supervisorId === id && f.deliveryCount === 2,
      );
      expect(again).toMatchObject({ questionId: 'q0', version: 1 });
      // A subscription by id after the restore carries the stored version, not 0.
      const late = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      await late.request({ type: 'subscribe', supervisorIds: [id] });
      expect(late.frames.filter(asked)).toMatchObject([{ questionId: 'q0', version: 1 }]);
      await late.close();
      const ack = await client.request({
        type: 'answer',
        supervisorId: id,
        questionId: 'q0',
        value: 3,
      });
      expect(ack).toMatchObject({ type: 'answer.ack', duplicate: false });
      await client.close();
    });
  });
});
