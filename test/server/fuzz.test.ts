// Thousands of malformed and hostile frames: the server answers each with an error frame,
// keeps the connection, changes nothing and stays healthy.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

function hostileFrames(supervisorId: string): Array<string | Buffer> {
  const frames: Array<string | Buffer> = [
    '',
    'null',
    '[]',
    '"answer"',
    '{"type":"answer"',
    '{"__proto__":{"admin":true},"type":"subscribe","requestId":"p","all":true}',
    JSON.stringify({ type: 'hello', requestId: 'h', token: TOKENS.admin, protocol: 2 }),
    JSON.stringify({ type: 'subscribe', requestId: 's', owner: 'alice', all: true }),
    JSON.stringify({
      type: 'answer',
      requestId: 'x'.repeat(500),
      supervisorId,
      questionId: 'q0',
      value: 1,
    }),
    JSON.stringify({
      type: 'answer',
      requestId: 'a',
      supervisorId,
      questionId: '../../etc',
      value: 1,
    }),
    JSON.stringify({
      type: 'answer',
      requestId: 'a',
      supervisorId,
      questionId: 'q0',
      value: 1,
      admin: true,
    }),
    JSON.stringify({ type: 'ping', requestId: { $gt: '' } }),
    JSON.stringify({
      type: 'answer',
      requestId: 'big',
      supervisorId,
      questionId: 'q0',
      value: 'v'.repeat(1_100_000),
    }),
    Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
    `{"type":"answer","requestId":"deep","value":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
  ];
  for (let i = 0; i < 3_000; i++) {
    const roll = i % 6;
    if (roll === 0) frames.push(randomBytes(1 + (i % 200)));
    else if (roll === 1) frames.push(randomBytes(1 + (i % 64)).toString('base64'));
    else if (roll === 2)
      frames.push(
        JSON.stringify({
          type: ['answer', 'subscribe', 'hello', 'pong', 'boom'][i % 5],
          requestId: `r${i}`,
        }),
      );
    else if (roll === 3)
      frames.push(
        JSON.stringify({
          type: 'answer',
          requestId: `r${i}`,
          supervisorId: randomUUID(),
          questionId: 'q0',
          value: i,
        }),
      );
    else if (roll === 4)
      frames.push(
        JSON.stringify({
          type: 'answer',
          requestId: `r${i}`,
          supervisorId,
          questionId: 'q0',
          value: `not a number ${i}`,
        }),
      );
    else
      frames.push(
        JSON.stringify({ type: 'subscribe', requestId: `r${i}`, supervisorIds: ['not-a-uuid', i] }),
      );
  }
  return frames;
}

describeEachEngine('hostile frames', (engine) => {
  const fixture = useServer(engine);

  it('answers every bad frame with an error, keeps the connection and changes nothing', async () => {
    const { id, version } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    await client.waitFor((f) => f.type === 'hello.ok');
    const frames = hostileFrames(id);
    for (const frame of frames) client.send(frame);
    const pong = await client.request({ type: 'ping' }, 30_000);
    expect(pong.type).toBe('pong');
    // Answers are checked asynchronously (some need the database), so their errors may
    // come after the pong; wait for them, then count exactly.
    await waitFor(
      `an error for each of the ${frames.length} hostile frames`,
      () => client.frames.filter((f) => f.type === 'error').length >= frames.length,
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    await client.request({ type: 'ping' });
    const errors = client.frames.filter((f) => f.type === 'error');
    expect(errors).toHaveLength(frames.length);
    expect(new Set(errors.map((e) => (e.type === 'error' ? e.code : '')))).toEqual(
      new Set([
        'ERR_MESSAGE_INVALID',
        'ERR_MESSAGE_UNKNOWN_TYPE',
        'ERR_MESSAGE_TOO_LARGE',
        'ERR_SUPERVISOR_NOT_FOUND',
        'ERR_ANSWER_INVALID',
      ]),
    );
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    const row = await fixture.host.get(id);
    expect(row.version).toBe(version);
    expect(row.pendingQuestions.map((q) => q.id)).toEqual(['q0']);
    // Still healthy: another client is served and the real answer goes through.
    const ack = await client.request({
      type: 'answer',
      supervisorId: id,
      questionId: 'q0',
      value: 5,
    });
    expect(ack).toMatchObject({ type: 'answer.ack', duplicate: false });
    expect((await fetch(`${fixture.server.url}/healthz`)).status).toBe(200);
    await client.close();
  }, 60_000);
});
