// Issue 15, item 4: every command of the HTTP API takes an Idempotency-Key; a repeat within
// 24 h answers the first reply and applies nothing, the same key with another request is
// 422, and the key is in the journal entry committed with the effect.

import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createStewardHttpClient } from '../../src/client/stewardHttpClient.ts';
import type { JournalEvent } from '../../src/model/task.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { spawnStored } from '../helpers/host.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/waitFor.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely; the assertions check them
type ResponseBody = Record<string, any>;

describeEachEngine('idempotent commands', (engine) => {
  const fixture = useServer(engine);

  /** A request as alice (by default), with `key` as its Idempotency-Key when given. */
  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; key?: string; token?: string } = {},
  ) => {
    const response = await fetch(`${fixture.server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? TOKENS.alice}`,
        'content-type': 'application/json',
        ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
      },
      ...(options.rawBody !== undefined
        ? { body: options.rawBody }
        : options.body === undefined
          ? {}
          : { body: JSON.stringify(options.body) }),
    });
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      body: (await response.json()) as ResponseBody,
    };
  };

  const createTally = async (token: string = TOKENS.alice) =>
    (await call('POST', '/supervisors', { body: { machineId: 'tally', input: {} }, token })).body
      .id as string;

  /** How many `add` events the tally applied, from its stored row. */
  const countOf = async (id: string) =>
    ((await fixture.host.get(id)).snapshot as { context: { count: number } }).context.count;

  /** The journal entries of a supervisor written with this key. */
  const keyed = async (id: string, key: string): Promise<JournalEvent[]> =>
    (await listEvents(fixture.db, id)).filter(
      (e) => (e.payload as { idempotencyKey?: string }).idempotencyKey === key,
    );

  it('applies an event once when its request comes again with its key, and answers the first reply', async () => {
    const id = await createTally();
    const key = randomUUID();
    const first = await call('POST', `/supervisors/${id}/events`, { body: { type: 'add' }, key });
    // The same request spelled otherwise (whitespace) is the same request.
    const again = await call('POST', `/supervisors/${id}/events`, {
      rawBody: '{ "type" :  "add" }',
      key,
    });
    expect(first).toMatchObject({ status: 200, replayed: null });
    expect(again).toEqual({ ...first, replayed: 'true' });
    expect(await countOf(id)).toBe(1);
    expect(await keyed(id, key)).toEqual([
      expect.objectContaining({
        kind: 'command',
        version: first.body.version,
        payload: expect.objectContaining({ command: 'event', requestHash: expect.any(String) }),
      }),
    ]);
    expect((await fixture.host.get(id)).version).toBe(first.body.version);
  });

  it('applies an event once when 10 requests with one key come at the same time, all answered alike', async () => {
    const id = await createTally();
    const key = randomUUID();
    const replies = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('POST', `/supervisors/${id}/events`, { body: { type: 'add' }, key }),
      ),
    );
    expect(new Set(replies.map((r) => JSON.stringify([r.status, r.body]))).size).toBe(1);
    expect(replies[0]?.status).toBe(200);
    expect(replies.filter((r) => r.replayed === null)).toHaveLength(1);
    expect(await countOf(id)).toBe(1);
    expect(await keyed(id, key)).toHaveLength(1);
  });

  it('refuses the same key with another body, route or supervisor with 422, changing nothing', async () => {
    const id = await createTally();
    const other = await createTally();
    const key = randomUUID();
    await call('POST', `/supervisors/${id}/events`, { body: { type: 'add' }, key });
    const version = (await fixture.host.get(id)).version;
    const refusals = [
      await call('POST', `/supervisors/${id}/events`, { body: { type: 'boom' }, key }),
      await call('POST', `/supervisors/${id}/pause`, { key }),
      await call('POST', `/supervisors/${other}/events`, { body: { type: 'add' }, key }),
    ];
    for (const refused of refusals) {
      expect(refused).toMatchObject({
        status: 422,
        body: { error: { code: 'ERR_IDEMPOTENCY_KEY_REUSED', details: { idempotencyKey: key } } },
      });
    }
    expect((await fixture.host.get(id)).version).toBe(version);
    expect((await fixture.host.get(id)).state).toBe('working');
    expect(await countOf(other)).toBe(0);
  });

  it('applies every request without a key, as before', async () => {
    const id = await createTally();
    for (let i = 0; i < 2; i++) {
      expect(
        (await call('POST', `/supervisors/${id}/events`, { body: { type: 'add' } })).status,
      ).toBe(200);
    }
    expect(await countOf(id)).toBe(2);
  });

  it('refuses a key that is empty, too long or not printable ASCII with 400, applying nothing', async () => {
    const id = await createTally();
    for (const key of ['', 'k'.repeat(256), 'caf\u00e9', 'tab\there']) {
      const refused = await call('POST', `/supervisors/${id}/events`, {
        body: { type: 'add' },
        key,
      });
      expect(refused).toMatchObject({
        status: 400,
        body: { error: { code: 'ERR_IDEMPOTENCY_KEY_INVALID' } },
      });
    }
    expect(await countOf(id)).toBe(0);
    expect(
      (
        await call('POST', `/supervisors/${id}/events`, {
          body: { type: 'add' },
          key: 'k'.repeat(255),
        })
      ).status,
    ).toBe(200);
  });

  it('creates one supervisor for a create that comes again with its key (201 both times)', async () => {
    const key = randomUUID();
    const request = { body: { machineId: 'tally', input: {} }, key };
    const first = await call('POST', '/supervisors', request);
    const again = await call('POST', '/supervisors', request);
    expect(first).toMatchObject({ status: 201, body: { id: expect.any(String), version: 1 } });
    expect(again).toEqual({ ...first, replayed: 'true' });
    const tallies = await fixture.host.list({ machineId: 'tally', owner: 'alice', limit: 1000 });
    expect(tallies.filter((s) => s.id === first.body.id)).toHaveLength(1);
    expect(await keyed(first.body.id, key)).toHaveLength(1);
    const other = await call('POST', '/supervisors', {
      body: { machineId: 'tally', input: { x: 1 } },
      key,
    });
    expect(other).toMatchObject({ status: 422 });
  });

  it('pauses, resumes and cancels once per key, each repeat answering the first reply', async () => {
    const id = await createTally();
    for (const [route, body] of [
      ['pause', undefined],
      ['resume', undefined],
      ['cancel', { reason: 'done' }],
    ] as const) {
      const key = randomUUID();
      const first = await call('POST', `/supervisors/${id}/${route}`, { body, key });
      const version = (await fixture.host.get(id)).version;
      const again = await call('POST', `/supervisors/${id}/${route}`, { body, key });
      expect(first.status).toBe(200);
      expect(again).toEqual({ ...first, replayed: 'true' });
      expect((await fixture.host.get(id)).version).toBe(version);
      expect(await keyed(id, key)).toEqual([
        expect.objectContaining({
          kind: 'command',
          payload: expect.objectContaining({ command: route }),
        }),
      ]);
    }
    expect((await fixture.host.get(id)).state).toBe('cancelled');
  });

  it('journals a resume of a running supervisor, so that a repeat with its key replays it', async () => {
    const id = await createTally();
    const key = randomUUID();
    const first = await call('POST', `/supervisors/${id}/resume`, { key });
    expect(first.body).toEqual({ resumed: 'running', version: 2, restoration: null });
    const again = await call('POST', `/supervisors/${id}/resume`, { key });
    expect(again).toEqual({ ...first, replayed: 'true' });
    expect(await keyed(id, key)).toEqual([
      expect.objectContaining({
        kind: 'command',
        version: 2,
        payload: expect.objectContaining({ command: 'resume', resumed: 'running' }),
      }),
    ]);
    // Without a key it is journaled too, as a new version each time (the trail), and not
    // replayed: a request without a key is its own.
    expect((await call('POST', `/supervisors/${id}/resume`)).body.version).toBe(3);
  });

  it('restores once for a resume that comes again with its key, answering the same restoration', async () => {
    const id = await spawnStored(fixture.db, 'fragile', {}, { owner: 'alice' });
    const key = randomUUID();
    const first = await call('POST', `/supervisors/${id}/resume`, { key });
    const again = await call('POST', `/supervisors/${id}/resume`, { key });
    expect(first.body).toMatchObject({ resumed: 'restored', restoration: { restorationCount: 1 } });
    expect(again).toEqual({ ...first, replayed: 'true' });
    expect((await fixture.host.get(id)).restorationCount).toBe(1);
    expect(await keyed(id, key)).toEqual([expect.objectContaining({ kind: 'restored' })]);
  });

  it('retries once for a retry that comes again with its key, answering the same restoration', async () => {
    const id = await createTally();
    await call('POST', `/supervisors/${id}/events`, { body: { type: 'boom' } });
    await waitFor('the failure', async () => (await fixture.host.get(id)).state === 'failed');
    const key = randomUUID();
    const request = { body: { reason: 'fixed' }, key };
    const first = await call('POST', `/supervisors/${id}/retry`, request);
    const again = await call('POST', `/supervisors/${id}/retry`, request);
    expect(first.body).toMatchObject({ retried: true, restoration: { restorationCount: 1 } });
    expect(again).toEqual({ ...first, replayed: 'true' });
    expect((await fixture.host.get(id)).restorationCount).toBe(1);
    expect(await keyed(id, key)).toEqual([expect.objectContaining({ kind: 'retried' })]);
    const otherReason = await call('POST', `/supervisors/${id}/retry`, { body: {}, key });
    expect(otherReason.status).toBe(422);
  });

  it('keeps keys apart per principal: an owner’s tokens share them, another owner’s are its own', async () => {
    const key = randomUUID();
    const alices = await createTally();
    const bobs = await createTally(TOKENS.bob);
    const path = (id: string) => `/supervisors/${id}/events`;
    const body = { type: 'add' };
    const first = await call('POST', path(alices), { body, key });
    const byOps = await call('POST', path(alices), { body, key, token: TOKENS.aliceOps });
    expect(byOps).toEqual({ ...first, replayed: 'true' });
    const byBob = await call('POST', path(bobs), { body, key, token: TOKENS.bob });
    expect(byBob).toMatchObject({ status: 200, replayed: null });
    expect(await countOf(alices)).toBe(1);
    expect(await countOf(bobs)).toBe(1);
  });

  it('stores no key for a request that failed: its repeat executes again', async () => {
    const id = await createTally();
    await call('POST', `/supervisors/${id}/pause`);
    const key = randomUUID();
    const refused = await call('POST', `/supervisors/${id}/events`, { body: { type: 'add' }, key });
    expect(refused).toMatchObject({
      status: 409,
      body: { error: { code: 'ERR_EVENT_NOT_ACCEPTED' } },
    });
    await call('POST', `/supervisors/${id}/resume`);
    const applied = await call('POST', `/supervisors/${id}/events`, { body: { type: 'add' }, key });
    expect(applied).toMatchObject({ status: 200, replayed: null });
    expect(await countOf(id)).toBe(1);
  });

  it('forgets a key after 24 hours: a repeat then executes again', async () => {
    const id = await createTally();
    const key = randomUUID();
    await call('POST', `/supervisors/${id}/events`, { body: { type: 'add' }, key });
    await fixture.db.query(
      `UPDATE supervisor_events SET created_at = now() - interval '24 hours 1 minute'
       WHERE payload->>'idempotencyKey' = $1`,
      [key],
    );
    const again = await call('POST', `/supervisors/${id}/events`, { body: { type: 'add' }, key });
    expect(again).toMatchObject({ status: 200, replayed: null });
    expect(await countOf(id)).toBe(2);
  });

  it('sends the key from the typed client, whose repeats get the first reply', async () => {
    const http = createStewardHttpClient({ url: fixture.server.url, token: TOKENS.alice });
    const createKey = randomUUID();
    const created = await http.supervisors.create(
      { machineId: 'tally', input: {} },
      { idempotencyKey: createKey },
    );
    expect(
      await http.supervisors.create(
        { machineId: 'tally', input: {} },
        { idempotencyKey: createKey },
      ),
    ).toEqual(created);
    const { id } = created;
    const sendKey = randomUUID();
    const sent = await http.supervisors.send(id, { type: 'add' }, { idempotencyKey: sendKey });
    expect(await http.supervisors.send(id, { type: 'add' }, { idempotencyKey: sendKey })).toEqual(
      sent,
    );
    const pauseKey = randomUUID();
    const paused = await http.supervisors.pause(id, { idempotencyKey: pauseKey });
    expect(await http.supervisors.pause(id, { idempotencyKey: pauseKey })).toEqual(paused);
    const resumeKey = randomUUID();
    const resumed = await http.supervisors.resume(id, { idempotencyKey: resumeKey });
    expect(await http.supervisors.resume(id, { idempotencyKey: resumeKey })).toEqual(resumed);
    const cancelKey = randomUUID();
    const cancelled = await http.supervisors.cancel(id, 'enough', { idempotencyKey: cancelKey });
    expect(await http.supervisors.cancel(id, 'enough', { idempotencyKey: cancelKey })).toEqual(
      cancelled,
    );
    const retryKey = randomUUID();
    const retried = await http.supervisors.retry(id, { reason: 'again', idempotencyKey: retryKey });
    expect(await http.supervisors.retry(id, { reason: 'again', idempotencyKey: retryKey })).toEqual(
      retried,
    );
    await expect(
      http.supervisors.send(id, { type: 'boom' }, { idempotencyKey: sendKey }),
    ).rejects.toMatchObject({ code: 'ERR_IDEMPOTENCY_KEY_REUSED', status: 422 });
    expect((await fixture.host.get(id)).restorationCount).toBe(1);
  });
});
