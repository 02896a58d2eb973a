import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import {
  createStewardHttpClient,
  httpBaseUrl,
  isStewardClientError,
  type StewardClientError,
} from '../../src/client/index.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';

/** The client error a promise rejects with; fails when it resolves or rejects otherwise. */
async function refusalOf(promise: Promise<unknown>): Promise<StewardClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStewardClientError(error)) throw new Error(`expected a client error, got ${error}`);
  return error;
}

const REFERENCE = { machineId: 'reference', input: { goal: 'g', steps: ['a'] } };

describeEachEngine('HTTP client', (engine) => {
  const fixture = useServer(engine);
  const client = (token: string = TOKENS.alice) =>
    createStewardHttpClient({ url: fixture.server.url, token });

  it('creates, gets, sends to, answers, pauses, resumes, cancels and deletes a supervisor', async () => {
    const alice = client();
    const created = await alice.supervisors.create(REFERENCE);
    expect(created.version).toBeGreaterThan(0);
    const { id } = created;

    const got = await alice.supervisors.get(id);
    expect(got.supervisor).toMatchObject({ id, owner: 'alice', state: 'waiting_for_user' });
    expect(got.supervisor.createdAt).toBe((await fixture.host.get(id)).createdAt.toISOString());
    expect(got.pendingQuestions.map((q) => q.id)).toEqual(['approve-plan']);
    expect(got.history.map((e) => e.kind)).toContain('question_asked');

    const answered = await alice.supervisors.answer(id, 'approve-plan', true);
    expect(answered.duplicate).toBe(false);
    expect(await alice.supervisors.answer(id, 'approve-plan', true)).toEqual({
      version: answered.version,
      duplicate: true,
    });

    const paused = await alice.supervisors.pause(id);
    expect((await fixture.host.get(id)).state).toBe('paused');
    const resumed = await alice.supervisors.resume(id);
    expect(resumed).toMatchObject({ resumed: 'unpaused', restoration: null });
    if (resumed.resumed === 'restored') throw new Error('a paused one is unpaused');
    expect(resumed.version).toBeGreaterThan(paused.version);

    const refused = await refusalOf(alice.supervisors.send(id, { type: 'no.such.event' }));
    expect([refused.code, refused.status]).toEqual(['ERR_EVENT_NOT_ACCEPTED', 409]);

    const cancelled = await alice.supervisors.cancel(id, 'enough');
    expect(cancelled.version).toBeGreaterThan(resumed.version);
    expect((await fixture.host.get(id)).state).toBe('cancelled');

    expect(await client(TOKENS.admin).supervisors.delete(id)).toEqual({ id, deleted: true });
    expect((await refusalOf(alice.supervisors.get(id))).code).toBe('ERR_SUPERVISOR_NOT_FOUND');
  });

  it('sends an event the state takes, resolving with the version that committed it', async () => {
    const { id, version } = await client().supervisors.create({ machineId: 'fragile' });
    const sent = await client().supervisors.send(id, { type: 'poke' });
    expect(sent.version).toBeGreaterThan(version);
    const { supervisor } = await client().supervisors.get(id);
    expect([supervisor.version, supervisor.currentActivity]).toEqual([sent.version, 'poked']);
  });

  it('lists supervisors and pending questions with the fleet filters, only its own', async () => {
    const alice = client();
    const { id } = await alice.supervisors.create(REFERENCE);
    const { id: bobs } = await client(TOKENS.bob).supervisors.create(REFERENCE);

    const { supervisors } = await alice.supervisors.list({
      state: ['waiting_for_user', 'working'],
      machineId: 'reference',
      limit: 1000,
    });
    expect(supervisors.map((s) => s.id)).toContain(id);
    expect(supervisors.map((s) => s.id)).not.toContain(bobs);
    expect(supervisors.every((s) => s.owner === 'alice')).toBe(true);
    expect(
      (await alice.supervisors.list({ state: 'cancelled' })).supervisors.map((s) => s.id),
    ).not.toContain(id);

    const page = await alice.questions.list({ machineId: 'reference' });
    const mine = page.questions.find((q) => q.supervisorId === id);
    expect(mine).toMatchObject({ owner: 'alice', question: { id: 'approve-plan' } });
    expect(page.questions.some((q) => q.supervisorId === bobs)).toBe(false);
    expect(typeof page.nextAfterId).toBe('string');
  });

  it("rejects with the server's code, message, details and HTTP status", async () => {
    const alice = client();
    const missing = randomUUID();
    const notFound = await refusalOf(alice.supervisors.get(missing));
    expect(notFound).toMatchObject({
      code: 'ERR_SUPERVISOR_NOT_FOUND',
      status: 404,
      message: `no supervisor with id ${missing}`,
      details: { id: missing },
    });
    const { id: bobs } = await client(TOKENS.bob).supervisors.create(REFERENCE);
    expect(await refusalOf(alice.supervisors.pause(bobs))).toMatchObject({ status: 404 });

    const forbidden = await refusalOf(alice.supervisors.list({ owner: 'bob' }));
    expect([forbidden.code, forbidden.status]).toEqual(['ERR_FORBIDDEN', 403]);
    const notAdmin = await refusalOf(alice.supervisors.delete(bobs));
    expect([notAdmin.code, notAdmin.status]).toEqual(['ERR_FORBIDDEN', 403]);

    const badInput = await refusalOf(
      alice.supervisors.create({ machineId: 'reference', input: { goal: 1 } }),
    );
    expect([badInput.code, badInput.status]).toEqual(['ERR_INPUT_INVALID', 400]);
    expect(badInput.issues.length).toBeGreaterThan(0);
    expect(badInput.details.issues).toEqual(badInput.issues);

    const unknownField = { ...REFERENCE, colour: 'red' } as typeof REFERENCE;
    const badBody = await refusalOf(alice.supervisors.create(unknownField));
    expect([badBody.code, badBody.status]).toEqual(['ERR_MESSAGE_INVALID', 400]);
    const badEvent = await refusalOf(alice.supervisors.send(bobs, { type: 'xstate.init' }));
    expect(badEvent.status).toBe(404); // bob's: not found before the body is read
    const { id } = await alice.supervisors.create(REFERENCE);
    const runtimeOnly = await refusalOf(alice.supervisors.send(id, { type: 'xstate.init' }));
    expect([runtimeOnly.code, runtimeOnly.status]).toEqual(['ERR_EVENT_INVALID', 400]);
    const badQuery = await refusalOf(alice.supervisors.list({ limit: 0 }));
    expect([badQuery.code, badQuery.status]).toEqual(['ERR_MESSAGE_INVALID', 400]);

    await alice.supervisors.answer(id, 'approve-plan', true);
    const lost = await refusalOf(alice.supervisors.answer(id, 'approve-plan', false));
    expect(lost).toMatchObject({ code: 'ERR_ALREADY_ANSWERED', status: 409 });
    expect(lost.recorded).toMatchObject({ value: true });

    const stranger = await refusalOf(client('not-a-valid-token-0123').questions.list());
    expect([stranger.code, stranger.status]).toEqual(['ERR_UNAUTHENTICATED', 401]);
  });

  it('takes the WebSocket URL of the server, or httpUrl', async () => {
    expect(httpBaseUrl('ws://127.0.0.1:7420/ws')).toBe('http://127.0.0.1:7420');
    expect(httpBaseUrl('wss://steward.example/ws')).toBe('https://steward.example');
    expect(httpBaseUrl('https://example.test/steward/')).toBe('https://example.test/steward');
    expect(() => httpBaseUrl('ftp://example.test')).toThrow(/use http\(s\)/);
    expect(() => httpBaseUrl('not a url')).toThrow(/is not a URL/);

    const viaSocketUrl = createStewardHttpClient({ url: fixture.wsUrl, token: TOKENS.alice });
    expect(viaSocketUrl.url).toBe(fixture.server.url);
    expect(Array.isArray((await viaSocketUrl.questions.list()).questions)).toBe(true);
    const apart = createStewardHttpClient({
      url: 'ws://127.0.0.1:1/ws',
      httpUrl: fixture.server.url,
      token: TOKENS.alice,
    });
    expect(Array.isArray((await apart.supervisors.list()).supervisors)).toBe(true);
  });

  it('rejects with ERR_NETWORK when nothing answers, and ERR_RESPONSE_INVALID for a body that is not the route’s', async () => {
    // Not Steward: what a client meets in front of one (a dead port, a proxy's pages).
    const proxy = createServer((request, response) => {
      if (request.url === '/supervisors') response.writeHead(502).end('<html>Bad Gateway</html>');
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"nope":1}');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    const other = createStewardHttpClient({ url: `http://127.0.0.1:${port}`, token: 't' });
    const notJson = await refusalOf(other.supervisors.list());
    expect([notJson.code, notJson.status]).toEqual(['ERR_RESPONSE_INVALID', 502]);
    const unfit = await refusalOf(other.questions.list());
    expect([unfit.code, unfit.status]).toEqual(['ERR_RESPONSE_INVALID', 200]);
    await new Promise((resolve) => proxy.close(resolve));

    const gone = await refusalOf(other.supervisors.get(randomUUID()));
    expect(gone.code).toBe('ERR_NETWORK');
    expect(gone.status).toBeUndefined();
  });

  it('pages back through the journal', async () => {
    const alice = client();
    const { id } = await alice.supervisors.create(REFERENCE);
    await alice.supervisors.answer(id, 'approve-plan', true);
    const newest = await alice.supervisors.journal(id, { limit: 1 });
    expect(newest.entries).toHaveLength(1);
    expect(newest.nextBefore).not.toBeNull();
    const older = await alice.supervisors.journal(id, { before: newest.nextBefore as number });
    expect(older.entries.every((e) => e.id < (newest.entries[0]?.id ?? 0))).toBe(true);
    expect((await refusalOf(alice.supervisors.journal(randomUUID()))).status).toBe(404);
  });

  it('retries a cancelled supervisor, and refuses what has not finished', async () => {
    const alice = client();
    const { id } = await alice.supervisors.create(REFERENCE);
    const refused = await refusalOf(alice.supervisors.retry(id, { reason: 'again' }));
    expect([refused.status, refused.code]).toEqual([409, 'ERR_SUPERVISOR_NOT_FINISHED']);
    expect((await refusalOf(alice.supervisors.retry(randomUUID()))).status).toBe(404);
    await alice.supervisors.cancel(id, 'by mistake');
    const retried = await alice.supervisors.retry(id, { reason: 'again' });
    expect(retried).toMatchObject({
      retried: true,
      restoration: { supervisorId: id, source: 'manual' },
    });
    expect((await alice.supervisors.get(id)).supervisor.state).not.toBe('cancelled');
  });
});
