// A question's deadline as a client sees it over real sockets (issue 15): it is resolved
// `expired` while the client watches, and a late answer is refused with
// ERR_QUESTION_EXPIRED over WebSocket (an error frame) and HTTP (410), changing nothing.
import { expect, it } from 'vitest';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import type { DeadlineContext } from '../helpers/deadlineMachine.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

describeEachEngine('question deadlines over the wire', (engine) => {
  const fixture = useServer(engine);

  it('resolves a question expired at its 1.5 s deadline while a client watches, and refuses a late answer', async () => {
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    await client.request({ type: 'subscribe', owner: 'alice' });
    const { id } = await fixture.host.spawn('deadline', { expiresInMs: 1_500 }, { owner: 'alice' });
    const asked = (await client.waitFor(
      (f) => f.type === 'question.asked' && f.supervisorId === id,
    )) as Frame<'question.asked'>;
    const deadline = asked.deadline as string;
    expect(Date.parse(deadline) - Date.parse(asked.askedAt)).toBe(1_500);

    const resolved = await client.waitFor(
      (f) => f.type === 'question.resolved' && f.supervisorId === id,
      5_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(deadline));
    expect(resolved).toMatchObject({ questionId: 'sign-off', resolution: 'expired', version: 2 });
    const row = await fixture.host.get(id);
    expect(row).toMatchObject({ version: 2, stateValue: 'escalated', pendingQuestions: [] });
    expect((row.snapshot as { context: DeadlineContext }).context).toMatchObject({
      activity: 'escalated: nobody signed off in time',
      lapsed: { questionId: 'sign-off', deadline },
    });

    const late = await client.request({
      type: 'answer',
      supervisorId: id,
      questionId: 'sign-off',
      value: true,
    });
    expect(late).toMatchObject({ type: 'error', code: 'ERR_QUESTION_EXPIRED' });
    const http = await fetch(`${fixture.server.url}/supervisors/${id}/questions/sign-off/answer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: true }),
    });
    expect(http.status).toBe(410);
    expect(await http.json()).toMatchObject({ error: { code: 'ERR_QUESTION_EXPIRED' } });

    expect((await fixture.host.get(id)).version).toBe(2);
    const journal = (await listEvents(fixture.db, id)).map((e) => [e.kind, e.version]);
    expect(journal.filter(([kind]) => String(kind).startsWith('question_'))).toEqual([
      ['question_asked', 1],
      ['question_expired', 2],
    ]);
    await client.close();
  });

  it('refuses a question.expired or steward.deadline event from outside: only a deadline sends them', async () => {
    const { id, version } = await fixture.host.spawn(
      'deadline',
      { expiresInMs: 60_000 },
      { owner: 'alice' },
    );
    for (const event of [
      { type: 'question.expired', questionId: 'sign-off', deadline: new Date().toISOString() },
      { type: 'steward.deadline', questionId: 'sign-off' },
    ]) {
      const response = await fetch(`${fixture.server.url}/supervisors/${id}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
      expect(response.status, event.type).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'ERR_EVENT_INVALID' } });
    }
    const row = await fixture.host.get(id);
    expect(row).toMatchObject({ version, stateValue: 'waiting' });
    expect(row.pendingQuestions.map((q) => q.id)).toEqual(['sign-off']);
  });
});
