// Frames that arrive out of order: the typed client drops one whose version is older than
// one it already saw for the same supervisor (status) or question (asked). A real server
// never sends one (it drops them itself), so the relay in front of it sends the stale frame
// between the server's own frames, on the same WebSocket.
import { expect, it } from 'vitest';
import type { QuestionAskedFrame, SupervisorStatus } from '../../src/client/index.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { useClients, useStack } from './serverStack.ts';

/** Takes the next question, failing instead of hanging when none comes. */
async function nextQuestion(
  questions: AsyncIterator<QuestionAskedFrame>,
): Promise<QuestionAskedFrame> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no question came within 5 s')), 5_000);
  });
  try {
    const next = await Promise.race([questions.next(), timeout]);
    if (next.done) throw new Error('the question stream ended');
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

describeEachEngine('client: stale frames', (engine) => {
  const fixture = useStack(engine);
  const open = useClients(fixture, {});

  it('does not surface a supervisor.status older than one already seen for that supervisor', async () => {
    const { host } = fixture.stack;
    const { id } = await host.spawn('survey', { count: 3 }, { owner: 'alice' });
    const client = open();
    const statuses: SupervisorStatus[] = [];
    client.events.on('status', (status) => {
      if (status.supervisorId === id) statuses.push(status);
    });
    await client.subscribe({ supervisorIds: [id] });

    await host.answer(id, 'q0', 1);
    await waitFor('the status of version 2', () => statuses.some((s) => s.version === 2));
    const stale: SupervisorStatus = {
      type: 'supervisor.status',
      supervisorId: id,
      version: 1,
      state: 'waiting_for_user',
      stateValue: 'asking',
      phase: null,
      activity: 'a stale status',
      progress: 0,
    };
    fixture.relay.inject(JSON.stringify(stale));
    // The server's next status comes after the stale frame on the same socket.
    await host.answer(id, 'q1', 2);
    await waitFor('the status of version 3', () => statuses.some((s) => s.version === 3));

    expect(statuses.map((s) => [s.version, s.progress, s.activity])).toEqual([
      [2, 1, null],
      [3, 2, null],
    ]);
  });

  it('does not yield a question.asked older than one already seen for that question', async () => {
    const { host } = fixture.stack;
    const { id } = await host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const client = open();
    const questions = client.questions()[Symbol.asyncIterator]();
    await client.subscribe({ supervisorIds: [id] });
    const asked = await nextQuestion(questions);
    expect(asked).toMatchObject({ supervisorId: id, questionId: 'q0', version: 1 });
    let resolved = false;
    client.events.on('resolved', (frame) => {
      if (frame.supervisorId === id) resolved = true;
    });
    expect(await client.answer(id, 'q0', 7)).toMatchObject({ version: 2, duplicate: false });
    await waitFor('q0 to be resolved at version 2', () => resolved);

    // An asking of version 1 that looks new (another askedAt) arrives after the answer.
    const stale: QuestionAskedFrame = {
      ...asked,
      version: 1,
      askedAt: new Date(Date.parse(asked.askedAt) + 1_000).toISOString(),
    };
    fixture.relay.inject(JSON.stringify(stale));
    // The server's next question comes after the stale frame on the same socket.
    const { id: next } = await host.spawn('survey', { count: 1 }, { owner: 'alice' });
    await client.subscribe({ supervisorIds: [next] });

    expect(await nextQuestion(questions)).toMatchObject({ supervisorId: next, questionId: 'q0' });
  });
});
