// Reminders and escalations as clients see them over real sockets (issue 15): the reminder
// is the question asked again with `reminder: true`; the escalation asks it again with the
// escalation's audience, who may answer from then on (and not before), next to the first.
import { expect, it } from 'vitest';
import { createStewardClient } from '../../src/client/index.ts';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

type Asked = Extract<ServerFrame, { type: 'question.asked' }>;

describeEachEngine('question reminders and escalations over the wire', (engine) => {
  const fixture = useServer(engine);

  it('pushes the reminder, then the escalation with its audience, who may answer only then', async () => {
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    await client.request({ type: 'subscribe', owner: 'alice' });
    const { id } = await fixture.host.spawn(
      'follow-up',
      { remindAfterMs: 500, escalateAfterMs: 1_500 },
      { owner: 'alice' },
    );
    const asked = (f: ServerFrame): f is Asked =>
      f.type === 'question.asked' && f.supervisorId === id;
    const first = (await client.waitFor(asked)) as Asked;
    expect(first).toMatchObject({
      version: 1,
      audience: { kind: 'role', role: 'ops' },
      escalated: false,
      reminder: false,
      remindAt: expect.any(String),
      escalation: { at: expect.any(String), audience: { kind: 'owner' } },
    });
    // Before the escalation the owner's token without the role may not answer.
    const early = await client.request({
      type: 'answer',
      supervisorId: id,
      questionId: 'review',
      value: true,
    });
    expect(early).toMatchObject({ type: 'error', code: 'ERR_FORBIDDEN' });

    const reminder = (await client.waitFor((f) => asked(f) && f.reminder, 5_000)) as Asked;
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(first.remindAt as string));
    expect(reminder).toMatchObject({ version: 2, escalated: false, audience: first.audience });
    const escalation = (await client.waitFor((f) => asked(f) && f.escalated, 5_000)) as Asked;
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(first.escalation?.at as string));
    expect(escalation).toMatchObject({
      version: 3,
      reminder: false,
      audience: { kind: 'owner' },
    });

    const ack = await client.request({
      type: 'answer',
      supervisorId: id,
      questionId: 'review',
      value: true,
    });
    expect(ack).toMatchObject({ type: 'answer.ack', version: 4, duplicate: false });
    expect(client.frames.filter(asked).map((f) => [f.version, f.reminder, f.escalated])).toEqual([
      [1, false, false],
      [2, true, false],
      [3, false, true],
    ]);
    await client.close();
  });

  it('sends a question whose escalation came as escalated to a client that subscribes later', async () => {
    const { id } = await fixture.host.spawn(
      'follow-up',
      { remindAfterMs: 60_000, escalateAfterMs: 200 },
      { owner: 'alice' },
    );
    await expect.poll(async () => (await fixture.host.get(id)).version, { timeout: 5_000 }).toBe(2);
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    await client.request({ type: 'subscribe', supervisorIds: [id] });
    const frame = (await client.waitFor(
      (f) => f.type === 'question.asked' && f.supervisorId === id,
    )) as Asked;
    expect(frame).toMatchObject({ version: 2, escalated: true, audience: { kind: 'owner' } });
    await client.close();
  });

  it('tells a typed client of the follow-ups of a question it already took', async () => {
    const client = createStewardClient({ url: fixture.server.url, token: TOKENS.aliceOps });
    try {
      const followUps: Asked[] = [];
      client.events.on('followUp', (frame) => followUps.push(frame));
      await client.subscribe({ owner: 'alice' });
      const { id } = await fixture.host.spawn(
        'follow-up',
        { remindAfterMs: 300, escalateAfterMs: 600 },
        { owner: 'alice' },
      );
      for await (const question of client.questions()) {
        if (question.supervisorId === id) break;
      }
      await expect
        .poll(() => followUps.filter((f) => f.supervisorId === id).length, { timeout: 5_000 })
        .toBe(2);
      expect(
        followUps.filter((f) => f.supervisorId === id).map((f) => [f.reminder, f.escalated]),
      ).toEqual([
        [true, false],
        [false, true],
      ]);
      const ack = await client.answer(id, 'review', true);
      expect(ack).toMatchObject({ version: 4, duplicate: false });
    } finally {
      await client.close();
    }
  });
});
