// Issue 15, item 5: every command of the HTTP API (and every answer, over HTTP and the
// WebSocket) is journaled with who asked and the request id; a deletion is logged.

import { pino } from 'pino';
import { expect, it } from 'vitest';
import type { JournalEvent } from '../../src/model/task.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { spawnStored } from '../helpers/host.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely; the assertions check them
type ResponseBody = Record<string, any>;

const ALICE = { owner: 'alice', name: 'alice#0', admin: false };
const ADMIN = { owner: null, name: 'admin#2', admin: true };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describeEachEngine('audit trail', (engine) => {
  const logLines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
  const fixture = useServer(engine, { log });
  let requests = 0;

  /** A request with its own X-Request-Id (unless `requestId: null`), as alice by default. */
  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; token?: string; requestId?: string | null } = {},
  ) => {
    const requestId = options.requestId === undefined ? `audit-${++requests}` : options.requestId;
    const response = await fetch(`${fixture.server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? TOKENS.alice}`,
        'content-type': 'application/json',
        ...(requestId === null ? {} : { 'x-request-id': requestId }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return {
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      body: (await response.json().catch(() => null)) as ResponseBody,
    };
  };

  /** The journal entries of a supervisor that name the request. */
  async function entriesOf(id: string, requestId: string | null): Promise<JournalEvent[]> {
    return (await listEvents(fixture.db, id)).filter(
      (e) => (e.payload as { by?: { requestId?: string } } | null)?.by?.requestId === requestId,
    );
  }

  /** Makes the request and expects exactly one journal entry of `kind` naming it and alice. */
  async function expectJournaled(
    id: string,
    made: { status: number; requestId: string | null },
    kind: string,
    payload: Record<string, unknown> = {},
    by: Record<string, unknown> = ALICE,
  ) {
    expect(made.status).toBe(200);
    const entries = await entriesOf(id, made.requestId);
    expect(entries).toEqual([
      expect.objectContaining({
        kind,
        payload: expect.objectContaining({ ...payload, by: { ...by, requestId: made.requestId } }),
      }),
    ]);
    expect(entries[0]?.createdAt).toBeInstanceOf(Date);
  }

  it('journals create, event, pause, resume, cancel and answer with the principal and the request id', async () => {
    const created = await call('POST', '/supervisors', {
      body: { machineId: 'reference', input: { goal: 'audit', steps: [] } },
    });
    expect(created.status).toBe(201);
    expect(created.requestId).toBe(`audit-${requests}`);
    const id = created.body.id as string;
    const [spawn] = await entriesOf(id, created.requestId);
    expect(spawn).toMatchObject({
      kind: 'command',
      version: 1,
      payload: { command: 'spawn', by: { ...ALICE, requestId: created.requestId } },
    });

    await expectJournaled(id, await call('POST', `/supervisors/${id}/pause`), 'command', {
      command: 'pause',
    });
    await expectJournaled(id, await call('POST', `/supervisors/${id}/resume`), 'command', {
      command: 'resume',
    });
    // A resume of one already running changes nothing, and is journaled all the same.
    const running = await call('POST', `/supervisors/${id}/resume`);
    expect(running.body.resumed).toBe('running');
    await expectJournaled(id, running, 'command', { command: 'resume', resumed: 'running' });
    const answered = await call('POST', `/supervisors/${id}/questions/approve-plan/answer`, {
      body: { value: true },
    });
    await expectJournaled(id, answered, 'question_answered', { questionId: 'approve-plan' });
    const event = await call('POST', `/supervisors/${id}/events`, {
      body: { type: 'supervisor.pause' },
    });
    await expectJournaled(id, event, 'command', { command: 'pause' });
    await expectJournaled(
      id,
      await call('POST', `/supervisors/${id}/cancel`, { body: { reason: 'audited' } }),
      'command',
      { command: 'cancel', reason: 'audited' },
    );
  });

  it('journals an event of its own type by the events route', async () => {
    const id = (await call('POST', '/supervisors', { body: { machineId: 'fragile', input: {} } }))
      .body.id as string;
    const poked = await call('POST', `/supervisors/${id}/events`, { body: { type: 'poke' } });
    await expectJournaled(id, poked, 'command', { command: 'event', event: 'poke' });
  });

  it('journals a resume that restores a supervisor in its restored entry, and a retry in its retried entry', async () => {
    const stored = await spawnStored(fixture.db, 'fragile', {}, { owner: 'alice' });
    const resumed = await call('POST', `/supervisors/${stored}/resume`);
    expect(resumed.body.resumed).toBe('restored');
    await expectJournaled(stored, resumed, 'restored', { source: 'manual' });

    const boom = await call('POST', `/supervisors/${stored}/events`, { body: { type: 'boom' } });
    expect(boom.status).toBe(200);
    await waitFor('the failure', async () => (await fixture.host.get(stored)).state === 'failed');
    const retried = await call('POST', `/supervisors/${stored}/retry`, {
      body: { reason: 'fixed the fuse' },
      token: TOKENS.admin,
    });
    expect(retried.body).toMatchObject({
      retried: true,
      restoration: { source: 'manual', recovery: 'start_fresh' },
    });
    await expectJournaled(
      stored,
      retried,
      'retried',
      { reason: 'fixed the fuse', from: 'fresh', previousState: 'failed' },
      ADMIN,
    );
    // Back to work afresh: its question is pending again, and it takes events again.
    expect((await fixture.host.get(stored)).pendingQuestions.map((q) => q.id)).toEqual(['ready']);
    await expectJournaled(
      stored,
      await call('POST', `/supervisors/${stored}/events`, { body: { type: 'poke' } }),
      'command',
      { command: 'event', event: 'poke' },
    );
  });

  it('refuses a retry of a running supervisor, an unknown one, another owner’s, and a bad body', async () => {
    const id = (await call('POST', '/supervisors', { body: { machineId: 'fragile', input: {} } }))
      .body.id as string;
    const cases: Array<[string, { body?: unknown; token?: string }, number, string]> = [
      [id, {}, 409, 'ERR_SUPERVISOR_NOT_FINISHED'],
      [id, { token: TOKENS.bob }, 404, 'ERR_SUPERVISOR_NOT_FOUND'],
      ['00000000-0000-4000-8000-000000000000', {}, 404, 'ERR_SUPERVISOR_NOT_FOUND'],
      [id, { body: { reason: 7 } }, 400, 'ERR_MESSAGE_INVALID'],
    ];
    for (const [target, options, status, code] of cases) {
      const refused = await call('POST', `/supervisors/${target}/retry`, options);
      expect(refused).toMatchObject({ status, body: { error: { code } } });
    }
    expect((await listEvents(fixture.db, id)).filter((e) => e.kind === 'retried')).toEqual([]);
  });

  it('journals a WebSocket answer with the frame’s request id', async () => {
    const id = (
      await call('POST', '/supervisors', {
        body: { machineId: 'reference', input: { goal: 'g', steps: [] } },
      })
    ).body.id as string;
    const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    try {
      await client.waitFor((f) => f.type === 'hello.ok');
      const ack = await client.request({
        type: 'answer',
        supervisorId: id,
        questionId: 'approve-plan',
        value: true,
      });
      expect(ack.type).toBe('answer.ack');
      const requestId = (ack as { requestId: string }).requestId;
      const entries = await entriesOf(id, requestId);
      expect(entries).toEqual([
        expect.objectContaining({
          kind: 'question_answered',
          payload: expect.objectContaining({ by: { ...ALICE, requestId } }),
        }),
      ]);
    } finally {
      await client.close();
    }
  });

  it('generates a request id when none (or no sensible one) is sent, and returns it', async () => {
    const none = await call('GET', '/supervisors', { requestId: null });
    expect(none.requestId).toMatch(UUID);
    const long = await call('GET', '/supervisors', { requestId: 'x'.repeat(201) });
    expect(long.requestId).toMatch(UUID);
    const refused = await call('GET', '/supervisors/not-a-uuid', { requestId: 'mine-1' });
    expect(refused).toMatchObject({ status: 404, requestId: 'mine-1' });
  });

  it('logs a deletion as a JSON line naming its principal, never the token', async () => {
    const id = (
      await call('POST', '/supervisors', {
        body: { machineId: 'reference', input: { goal: 'g', steps: [] } },
      })
    ).body.id as string;
    expect((await call('POST', `/supervisors/${id}/cancel`)).status).toBe(200);
    const deleted = await call('DELETE', `/supervisors/${id}`, { token: TOKENS.admin });
    expect(deleted.status).toBe(200);
    const line = logLines.find((l) => l.audit === 'supervisor.deleted' && l.supervisorId === id);
    expect(line).toMatchObject({ by: { ...ADMIN, requestId: deleted.requestId } });
    expect(JSON.stringify(logLines)).not.toContain(TOKENS.admin);
  });
});
