import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

const http = (url: string, token: string, init: RequestInit = {}) =>
  fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

describeEachEngine('owner isolation', (engine) => {
  const fixture = useServer(engine);

  describe('over WebSocket', () => {
    it('never shows one owner the questions of another, whatever it subscribes to', async () => {
      const alices = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      const bobs = await fixture.host.spawn('survey', { count: 1 }, { owner: 'bob' });
      const bob = await openTestClient(fixture.wsUrl, { token: TOKENS.bob });
      expect(await bob.request({ type: 'subscribe', all: true })).toMatchObject({
        type: 'subscribed',
        pendingQuestions: 1,
      });
      expect(await bob.request({ type: 'subscribe', supervisorIds: [alices.id] })).toMatchObject({
        type: 'subscribed',
        pendingQuestions: 0,
      });
      expect(await bob.request({ type: 'subscribe', owner: 'alice' })).toMatchObject({
        type: 'error',
        code: 'ERR_FORBIDDEN',
      });
      // Live: alice's next supervisor asks and her first is answered while bob and an admin
      // listen to everything they may; the admin hears it, so bob's silence means something.
      const admin = await openTestClient(fixture.wsUrl, { token: TOKENS.admin });
      await admin.request({ type: 'subscribe', all: true });
      const alices2 = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      await fixture.host.answer(alices.id, 'q0', 1);
      await admin.waitFor((f) => f.type === 'question.asked' && f.supervisorId === alices2.id);
      await admin.waitFor((f) => f.type === 'question.resolved' && f.supervisorId === alices.id);
      await bob.request({ type: 'ping' });
      const about = (frames: ServerFrame[]) =>
        new Set(
          frames
            .filter((f) => 'supervisorId' in f)
            .map((f) => (f as { supervisorId: string }).supervisorId),
        );
      expect([...about(bob.frames)]).toEqual([bobs.id]);
      await bob.close();
      await admin.close();
    });

    it("refuses bob's answer to alice's question as not found, changing nothing", async () => {
      const { id, version } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      const bob = await openTestClient(fixture.wsUrl, { token: TOKENS.bob });
      expect(
        await bob.request({ type: 'answer', supervisorId: id, questionId: 'q0', value: 1 }),
      ).toMatchObject({
        type: 'error',
        code: 'ERR_SUPERVISOR_NOT_FOUND',
      });
      expect((await fixture.host.get(id)).version).toBe(version);
      await bob.close();
    });

    it('lets only holders of a role answer a question addressed to it', async () => {
      const { id, version } = await fixture.host.spawn(
        'survey',
        { count: 1, role: 'ops' },
        { owner: 'alice' },
      );
      const alice = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      expect(
        await alice.request({ type: 'answer', supervisorId: id, questionId: 'q0', value: 1 }),
      ).toMatchObject({
        type: 'error',
        code: 'ERR_FORBIDDEN',
      });
      expect((await fixture.host.get(id)).version).toBe(version);
      const ops = await openTestClient(fixture.wsUrl, { token: TOKENS.aliceOps });
      expect(
        await ops.request({ type: 'answer', supervisorId: id, questionId: 'q0', value: 1 }),
      ).toMatchObject({
        type: 'answer.ack',
        duplicate: false,
      });
      await alice.close();
      await ops.close();
    });
  });

  describe('over HTTP', () => {
    it('keeps lists, reads, answers and commands to the owner', async () => {
      const { id, version } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      const base = fixture.server.url;
      const list = (await (await http(`${base}/supervisors?limit=1000`, TOKENS.bob)).json()) as {
        supervisors: Array<{ owner: string }>;
      };
      expect(list.supervisors.length).toBeGreaterThan(0);
      expect(list.supervisors.every((s) => s.owner === 'bob')).toBe(true);
      expect((await http(`${base}/supervisors?owner=alice`, TOKENS.bob)).status).toBe(403);
      const questions = (await (await http(`${base}/questions`, TOKENS.bob)).json()) as {
        questions: Array<{ owner: string }>;
      };
      expect(questions.questions.every((q) => q.owner === 'bob')).toBe(true);
      for (const [method, path] of [
        ['GET', `/supervisors/${id}`],
        ['GET', `/supervisors/${id}/checkpoints`],
        ['POST', `/supervisors/${id}/pause`],
        ['POST', `/supervisors/${id}/cancel`],
        ['POST', `/supervisors/${id}/resume`],
      ] as const) {
        const response = await http(`${base}${path}`, TOKENS.bob, { method });
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(await response.json()).toMatchObject({
          error: { code: 'ERR_SUPERVISOR_NOT_FOUND' },
        });
      }
      const answer = await http(`${base}/supervisors/${id}/questions/q0/answer`, TOKENS.bob, {
        method: 'POST',
        body: JSON.stringify({ value: 1 }),
      });
      expect(answer.status).toBe(404);
      const created = await http(`${base}/supervisors`, TOKENS.bob, {
        method: 'POST',
        body: JSON.stringify({ machineId: 'survey', input: { count: 1 }, owner: 'alice' }),
      });
      expect(created.status).toBe(403);
      expect((await fixture.host.get(id)).version).toBe(version);
    });
  });
});
