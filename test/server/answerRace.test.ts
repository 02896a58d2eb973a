import { afterAll, beforeAll, expect, it } from 'vitest';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { ServerFrame } from '../../src/protocol/frames.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { openTestClient, type TestClient } from '../helpers/wsTestClient.ts';

const RACES = 200;

/** Who the journal says answered, for each racer's token. */
const ALICE = 'alice';
const ADMIN = 'admin#2';

describeEachEngine('two clients racing to answer', (engine) => {
  const fixture = useServer(engine);
  const racers: TestClient[] = [];
  beforeAll(async () => {
    for (const token of [TOKENS.alice, TOKENS.admin]) {
      const client = await openTestClient(fixture.wsUrl, { token });
      await client.waitFor((f) => f.type === 'hello.ok');
      racers.push(client);
    }
  });
  afterAll(async () => {
    await Promise.all(racers.map((c) => c.close()));
  });

  /** Both racers answer question `q${i}` at once, with their values; who sends first alternates. */
  async function race(id: string, i: number, values: [number, number]) {
    const [alice, admin] = racers as [TestClient, TestClient];
    const answer = (client: TestClient, value: number) =>
      client.request({ type: 'answer', supervisorId: id, questionId: `q${i}`, value });
    if (i % 2 === 0) return Promise.all([answer(alice, values[0]), answer(admin, values[1])]);
    const [second, first] = await Promise.all([answer(admin, values[1]), answer(alice, values[0])]);
    return [first, second] as const;
  }

  const answersOf = async (id: string) =>
    (await listEvents(fixture.db, id)).filter((e) => e.kind === 'question_answered');

  it(`refuses the loser of each of ${RACES} races between different values with the winner's answer`, async () => {
    const { id, version: spawned } = await fixture.host.spawn(
      'survey',
      { count: RACES },
      { owner: 'alice' },
    );
    let version = spawned;
    const winners: unknown[] = [];
    for (let i = 0; i < RACES; i++) {
      const values: [number, number] = [i, 1_000 + i];
      const replies = await race(id, i, values);
      const won = replies.findIndex((f) => f.type === 'answer.ack');
      expect(won, JSON.stringify(replies)).not.toBe(-1);
      const ack = replies[won] as Extract<ServerFrame, { type: 'answer.ack' }>;
      const refusal = replies[1 - won] as ServerFrame;
      // The winner's answer is the next write, and the loser's makes none.
      expect(ack).toMatchObject({ duplicate: false, version: ++version, questionId: `q${i}` });
      expect(refusal).toMatchObject({
        type: 'error',
        code: 'ERR_ALREADY_ANSWERED',
        recorded: { value: values[won], answeredBy: [ALICE, ADMIN][won], version: ack.version },
      });
      winners.push(values[won]);
    }
    const journal = await answersOf(id);
    expect(journal.map((e) => (e.payload as { value: unknown }).value)).toEqual(winners);
    const row = await fixture.host.get(id);
    expect(row.version).toBe(version);
    const { answers } = (row.snapshot as { context: { answers: Record<string, unknown> } }).context;
    expect(Object.values(answers)).toEqual(winners);
  });

  it(`acks both of ${RACES} races between the same value, one of them as a duplicate`, async () => {
    const { id, version: spawned } = await fixture.host.spawn(
      'survey',
      { count: RACES },
      { owner: 'alice' },
    );
    for (let i = 0; i < RACES; i++) {
      const replies = await race(id, i, [i, i]);
      expect(replies.map((f) => f.type)).toEqual(['answer.ack', 'answer.ack']);
      const acks = replies as ReadonlyArray<Extract<ServerFrame, { type: 'answer.ack' }>>;
      expect(acks.map((a) => a.duplicate).sort()).toEqual([false, true]);
      expect(acks.map((a) => a.version)).toEqual([spawned + i + 1, spawned + i + 1]);
    }
    expect(await answersOf(id)).toHaveLength(RACES);
  });

  it('answers a repeat with another value over HTTP with 409 and the answer that stands', async () => {
    const { id } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const answer = (value: unknown) =>
      fetch(`${fixture.server.url}/supervisors/${id}/questions/q0/answer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value }),
      });
    const first = await answer(5);
    const { version } = (await first.json()) as { version: number };
    expect(await (await answer(5)).json()).toEqual({ version, duplicate: true });

    const refused = await answer(6);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: {
        code: 'ERR_ALREADY_ANSWERED',
        message: expect.stringContaining('q0'),
        details: { id, questionId: 'q0' },
        recorded: { value: 5, answeredBy: ALICE, version },
      },
    });
    expect((await fixture.host.get(id)).version).toBe(version);
  });
});
