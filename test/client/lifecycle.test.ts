import { expect, it } from 'vitest';
import {
  type ClientLog,
  createStewardClient,
  isStewardClientError,
  webSocketUrl,
} from '../../src/client/index.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { ALICE, answersInJournal, useClients, useStack } from './serverStack.ts';

/** The code a promise rejects with; fails when it resolves. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStewardClientError(error))
    throw new Error(`expected a client error, got ${String(error)}`);
  return error.code;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A log that keeps what was warned. */
function recordingLog(): ClientLog & { warnings: string[] } {
  const warnings: string[] = [];
  const drop = () => {};
  return {
    warnings,
    debug: drop,
    info: drop,
    error: drop,
    warn: (_, message) => warnings.push(message),
  };
}

describeEachEngine('client lifecycle', (engine) => {
  const fixture = useStack(engine);
  const open = useClients(fixture, { reconnect: { initialMs: 20, maxMs: 100 } }, () =>
    fixture.relay.restore(),
  );

  for (const auth of ['header', 'hello'] as const) {
    it(`refuses a bad token (${auth}) with ERR_UNAUTHENTICATED and dials no more`, async () => {
      const before = fixture.relay.connections;
      const client = open({ token: 'not-a-valid-token-0123', auth });
      const gaveUp: boolean[] = [];
      client.events.on('disconnected', (loss) => gaveUp.push(!loss.willReconnect));

      expect(await codeOf(client.connect())).toBe('ERR_UNAUTHENTICATED');
      await pause(300); // fifteen backoff steps at 20 ms
      expect(fixture.relay.connections - before).toBe(1);
      expect(gaveUp).toEqual([true]);
      expect(await codeOf(client.answer(crypto.randomUUID(), 'q0', 1))).toBe('ERR_UNAUTHENTICATED');
    });
  }

  it('authenticates with a hello frame where headers cannot be set', async () => {
    const { id } = await fixture.stack.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const client = open({ auth: 'hello' });
    await client.connect();
    const helloOk = fixture.relay.frames.filter((f) => f.frame.type === 'hello.ok').at(-1);
    expect(helloOk?.frame).toMatchObject({ owner: 'alice', admin: false });
    expect(helloOk?.frame.requestId).toEqual(expect.any(String));
    expect(await client.answer(id, 'q0', 1)).toMatchObject({ duplicate: false });
  });

  it('close() rejects pending answers with ERR_CLIENT_CLOSED, ends questions() and dials no more', async () => {
    const client = open({ subscribe: { all: true } });
    await client.connect();
    let loopEnded = false;
    const loop = (async () => {
      for await (const _ of client.questions()) {
        // drains whatever is pending; the loop must end on close()
      }
      loopEnded = true;
    })();
    fixture.relay.cut();
    await waitFor('the drop', () => !client.connected);
    const pending = client.answer(crypto.randomUUID(), 'q0', 1);
    const dials = fixture.relay.connections;

    await client.close();

    expect(await codeOf(pending)).toBe('ERR_CLIENT_CLOSED');
    await loop;
    expect(loopEnded).toBe(true);
    expect(await codeOf(client.answer(crypto.randomUUID(), 'q0', 1))).toBe('ERR_CLIENT_CLOSED');
    expect(await codeOf(client.connect())).toBe('ERR_CLIENT_CLOSED');
    expect(await codeOf(client.subscribe({ all: true }))).toBe('ERR_CLIENT_CLOSED');
    fixture.relay.restore();
    await pause(200);
    expect(fixture.relay.connections).toBe(dials);
  });

  it('close() hangs up on the server', async () => {
    const client = createStewardClient({ url: fixture.stack.server.url, token: ALICE });
    await client.connect();
    expect(fixture.stack.server.clients()).toBeGreaterThanOrEqual(1);
    const others = fixture.stack.server.clients() - 1;
    await client.close();
    await waitFor('the server to see the close', () => fixture.stack.server.clients() === others);
    await client.close(); // idempotent
  });

  it('gives up on an answer after its timeout and does not send it later', async () => {
    const { id } = await fixture.stack.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const client = open();
    await client.connect();
    fixture.relay.cut();
    await waitFor('the drop', () => !client.connected);
    expect(await codeOf(client.answer(id, 'q0', 1, { timeoutMs: 100 }))).toBe('ERR_TIMEOUT');
    fixture.relay.restore();
    await client.connect();
    await pause(100);
    expect(await answersInJournal(fixture.db, id, 'q0')).toBe(0);
  });

  it('logs and ignores frames that do not fit the protocol, and keeps working', async () => {
    const { id } = await fixture.stack.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const log = recordingLog();
    const client = open({ log, subscribe: { supervisorIds: [id] } });
    const questions = client.questions()[Symbol.asyncIterator]();
    expect((await questions.next()).value).toMatchObject({ supervisorId: id, questionId: 'q0' });

    fixture.relay.inject('{not json');
    fixture.relay.inject(
      JSON.stringify({ type: 'question.asked', supervisorId: id, questionId: 'q7' }),
    );
    fixture.relay.inject(JSON.stringify({ type: 'launch.missiles' }));
    await waitFor('three warnings', () => log.warnings.length >= 3);

    expect(log.warnings).toEqual([
      'steward client: frame is not JSON, ignored',
      'steward client: frame does not fit the protocol, ignored',
      'steward client: frame does not fit the protocol, ignored',
    ]);
    expect(client.connected).toBe(true);
    expect(await client.answer(id, 'q0', 9)).toMatchObject({ duplicate: false });
  });

  it('refuses a URL that is not the WebSocket endpoint without retrying', async () => {
    const client = open({ url: `${fixture.relayUrl}/nope` });
    expect(await codeOf(client.connect())).toBe('ERR_ROUTE_NOT_FOUND');
  });

  it('derives the WebSocket URL from the server URL', () => {
    expect(webSocketUrl('http://127.0.0.1:7420')).toBe('ws://127.0.0.1:7420/ws');
    expect(webSocketUrl('https://steward.example/')).toBe('wss://steward.example/ws');
    expect(webSocketUrl('ws://127.0.0.1:7420/ws')).toBe('ws://127.0.0.1:7420/ws');
    expect(() => webSocketUrl('ftp://x')).toThrow(/http\(s\):\/\/ or ws\(s\):\/\//);
    expect(() => webSocketUrl('127.0.0.1:7420')).toThrow();
  });
});
