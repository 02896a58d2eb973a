import { expect, it } from 'vitest';
import { AnswerAckFrame, HelloOkFrame, type ServerFrame } from '../../src/protocol/frames.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { startStack, stopStack, TOKENS, useServer } from '../helpers/server.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

const keysOf = (value: object) => Object.keys(value).sort();

describeEachEngine('frames on the wire, as docs/protocol.md describes them', (engine) => {
  const fixture = useServer(engine);

  it('sends hello.ok and answer.ack with exactly the fields of their schemas', async () => {
    const { id } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    const hello = await client.waitFor((f) => f.type === 'hello.ok');
    expect(keysOf(hello)).toEqual(keysOf(HelloOkFrame.shape));
    const ack = await client.request({
      type: 'answer',
      supervisorId: id,
      questionId: 'q0',
      value: 1,
    });
    expect(keysOf(ack)).toEqual(keysOf(AnswerAckFrame.shape));
    await client.close();
  });

  it('refuses a JSON frame that is not an object, or has no string type, as ERR_MESSAGE_INVALID', async () => {
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    const errors: ServerFrame[] = [];
    for (const text of ['[1]', '42', 'null', '"ping"', '{"requestId":"r1"}', '{"type":1}']) {
      // One reply each: the next frame to arrive.
      const before = client.frames.length;
      client.send(text);
      await client.waitFor(() => client.frames.length > before);
      errors.push(client.frames[before] as ServerFrame);
    }
    expect(errors.map((f) => f.type === 'error' && f.code)).toEqual(
      Array(6).fill('ERR_MESSAGE_INVALID'),
    );
    expect(errors[0]).toMatchObject({
      requestId: null,
      message: expect.stringContaining('an array'),
    });
    expect(errors[4]).toMatchObject({ requestId: 'r1' });
    // An unknown string type keeps its own code; the connection stays open throughout.
    expect(await client.request({ type: 'launch' })).toMatchObject({
      code: 'ERR_MESSAGE_UNKNOWN_TYPE',
    });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await client.close();
  });

  it('reads a binary frame as UTF-8 JSON, answers in text, and refuses one that is not UTF-8', async () => {
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    await client.waitFor((f) => f.type === 'hello.ok');
    const replies: Array<{ text: string; binary: boolean }> = [];
    client.ws.on('message', (data, isBinary) =>
      replies.push({ text: String(data), binary: isBinary }),
    );
    client.ws.send(Buffer.from('{"type":"ping","requestId":"bin-é"}', 'utf8'), { binary: true });
    expect(await client.waitFor((f) => f.type === 'pong')).toEqual({
      type: 'pong',
      requestId: 'bin-é',
    });
    // 0xff inside the request id: read leniently it would become U+FFFD and get a pong.
    const notUtf8 = Buffer.from('{"type":"ping","requestId":"x_"}', 'utf8');
    notUtf8[notUtf8.indexOf('_')] = 0xff;
    client.ws.send(notUtf8, { binary: true });
    expect(await client.waitFor((f) => f.type === 'error')).toMatchObject({
      code: 'ERR_MESSAGE_INVALID',
      requestId: null,
    });
    expect(replies.every((r) => !r.binary)).toBe(true);
    expect(replies).toHaveLength(2);
    await client.close();
  });

  it('counts deliveries per token, and does not start again at 1 after a restart', async () => {
    const { id } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const countsOf = async (wsUrl: string, token: string) => {
      const client = await openTestClient(wsUrl, { token });
      await client.request({ type: 'subscribe', supervisorIds: [id] });
      await client.close();
      return client.frames.flatMap((f) => (f.type === 'question.asked' ? [f.deliveryCount] : []));
    };
    expect(await countsOf(fixture.wsUrl, TOKENS.alice)).toEqual([1]);
    expect(await countsOf(fixture.wsUrl, TOKENS.alice)).toEqual([2]);
    expect(await countsOf(fixture.wsUrl, TOKENS.admin)).toEqual([1]);

    // Two more processes over the same database, one after the other: each start since the
    // question was asked counts, though the sends an earlier process counted are not kept.
    for (const expected of [2, 3]) {
      const restarted = await startStack(fixture.db, { restore: true });
      try {
        const wsUrl = `${restarted.server.url.replace(/^http/, 'ws')}/ws`;
        expect(await countsOf(wsUrl, TOKENS.alice)).toEqual([expected]);
        expect(await countsOf(wsUrl, TOKENS.alice)).toEqual([expected + 1]);
      } finally {
        await stopStack(restarted);
      }
    }
    // A question asked after the last start is a first delivery again.
    const fresh = await startStack(fixture.db, { restore: true });
    try {
      const wsUrl = `${fresh.server.url.replace(/^http/, 'ws')}/ws`;
      const { id: later } = await fresh.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      const client = await openTestClient(wsUrl, { token: TOKENS.alice });
      await client.request({ type: 'subscribe', supervisorIds: [later] });
      expect(client.frames.filter((f) => f.type === 'question.asked')).toMatchObject([
        { supervisorId: later, deliveryCount: 1 },
      ]);
      await client.close();
    } finally {
      await stopStack(fresh);
    }
  });
});
