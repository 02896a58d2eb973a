import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { JournalEntry } from '../../src/protocol/http.ts';
import { createTokenTable } from '../../src/server/auth.ts';
import { startServer } from '../../src/server/server.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely; the assertions check them
type ResponseBody = Record<string, any>;

describeEachEngine('HTTP API', (engine) => {
  const fixture = useServer(engine, { maxBodyBytes: 64 * 1024 });
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    token: string = TOKENS.alice,
  ) => {
    const response = await fetch(`${fixture.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json().catch(() => null)) as ResponseBody,
    };
  };

  it('deletes a finished supervisor with its journal for an admin only, and refuses an unfinished one', async () => {
    const create = async () =>
      (
        await call('POST', '/supervisors', {
          machineId: 'reference',
          input: { goal: 'g', steps: [] },
        })
      ).body.id as string;
    const [finished, running] = [await create(), await create()];
    expect((await call('POST', `/supervisors/${finished}/cancel`, { reason: 'done' })).status).toBe(
      200,
    );

    const asOwner = await call('DELETE', `/supervisors/${finished}`);
    expect(asOwner).toMatchObject({ status: 403, body: { error: { code: 'ERR_FORBIDDEN' } } });
    const unfinished = await call('DELETE', `/supervisors/${running}`, undefined, TOKENS.admin);
    expect(unfinished).toMatchObject({
      status: 409,
      body: { error: { code: 'ERR_SUPERVISOR_NOT_FINISHED' } },
    });
    expect((await call('GET', `/supervisors/${running}`)).status).toBe(200);

    const deleted = await call('DELETE', `/supervisors/${finished}`, undefined, TOKENS.admin);
    expect(deleted).toEqual({ status: 200, body: { id: finished, deleted: true } });
    expect((await call('GET', `/supervisors/${finished}`, undefined, TOKENS.admin)).status).toBe(
      404,
    );
    const { rows } = await fixture.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM supervisor_events WHERE supervisor_id = $1',
      [finished],
    );
    expect(rows[0]?.n).toBe(0);
    for (const id of [finished, randomUUID(), 'not-a-uuid']) {
      const again = await call('DELETE', `/supervisors/${id}`, undefined, TOKENS.admin);
      expect(again).toMatchObject({
        status: 404,
        body: { error: { code: 'ERR_SUPERVISOR_NOT_FOUND' } },
      });
    }
  });

  it('runs a supervisor through create, get, answer, pause, resume, event and cancel', async () => {
    const created = await call('POST', '/supervisors', {
      machineId: 'reference',
      input: { goal: 'g', steps: ['a'] },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const got = await call('GET', `/supervisors/${id}`);
    expect(got.body.supervisor).toMatchObject({ id, owner: 'alice', state: 'waiting_for_user' });
    expect(got.body.pendingQuestions.map((q: { id: string }) => q.id)).toEqual(['approve-plan']);
    const history = z.array(JournalEntry).parse(got.body.history);
    expect(history.map((e) => e.kind)).toContain('question_asked');

    const answered = await call('POST', `/supervisors/${id}/questions/approve-plan/answer`, {
      value: true,
    });
    expect(answered).toMatchObject({ status: 200, body: { duplicate: false } });
    const again = await call('POST', `/supervisors/${id}/questions/approve-plan/answer`, {
      value: true,
    });
    expect(again).toMatchObject({
      status: 200,
      body: { duplicate: true, version: answered.body.version },
    });

    expect((await call('POST', `/supervisors/${id}/pause`)).status).toBe(200);
    expect((await fixture.host.get(id)).state).toBe('paused');
    expect(await call('POST', `/supervisors/${id}/resume`)).toMatchObject({
      status: 200,
      body: { resumed: 'unpaused', restoration: null },
    });
    expect(
      await call('POST', `/supervisors/${id}/events`, { type: 'no.such.event' }),
    ).toMatchObject({
      status: 409,
      body: { error: { code: 'ERR_EVENT_NOT_ACCEPTED' } },
    });
    expect(await call('POST', `/supervisors/${id}/cancel`, { reason: 'enough' })).toMatchObject({
      status: 200,
    });
    expect((await fixture.host.get(id)).state).toBe('cancelled');
    expect(await call('POST', `/supervisors/${id}/pause`)).toMatchObject({
      status: 409,
      body: { error: { code: 'ERR_SUPERVISOR_TERMINATED' } },
    });
  });

  it('lists with the fleet filters and the pending questions across the fleet', async () => {
    await call('POST', '/supervisors', { machineId: 'survey', input: { count: 2 } });
    const waiting = await call(
      'GET',
      '/supervisors?state=waiting_for_user,paused&hasPendingQuestions=true&limit=500',
    );
    expect(waiting.status).toBe(200);
    expect(waiting.body.supervisors.length).toBeGreaterThan(0);
    expect(
      waiting.body.supervisors.every((s: { state: string }) =>
        ['waiting_for_user', 'paused'].includes(s.state),
      ),
    ).toBe(true);
    const questions = await call('GET', '/questions?machineId=survey');
    expect(
      questions.body.questions.filter((q: { question: { id: string } }) => q.question.id === 'q1')
        .length,
    ).toBeGreaterThan(0);
    expect(await call('GET', '/supervisors?state=sleeping')).toMatchObject({
      status: 400,
      body: { error: { code: 'ERR_MESSAGE_INVALID' } },
    });
    expect((await call('GET', '/supervisors?limit=0')).status).toBe(400);
    expect((await call('GET', '/supervisors?order=urgent')).status).toBe(400);
  });

  it('pages the fleet in attention order and searches all of it', async () => {
    const owner = 'attention-owner';
    const done = await fixture.host.spawn('quiz', { count: 1 }, { owner });
    await fixture.host.answer(done.id, 'q0', 1);
    const tally = await fixture.host.spawn('tally', {}, { owner });
    const asking = await fixture.host.spawn('survey', { count: 1 }, { owner });
    const ids = async (query: string) =>
      (
        await call('GET', `/supervisors?owner=${owner}&${query}`, undefined, TOKENS.admin)
      ).body.supervisors.map((s: { id: string }) => s.id);
    // Waiting for a person first, however new, then running, then finished; a page at a time.
    expect(await ids('order=attention')).toEqual([asking.id, tally.id, done.id]);
    const [first] = await ids('order=attention&limit=1');
    expect(await ids(`order=attention&limit=2&afterId=${first}`)).toEqual([tally.id, done.id]);
    expect(await ids('order=attention&search=TALLY')).toEqual([tally.id]);
    expect(await ids('search=quiz%20completed')).toEqual([done.id]);
  });

  it('refuses bad input with a stable code and changes nothing', async () => {
    const { id, version } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/supervisors', '{"machineId": ', 400, 'ERR_MESSAGE_INVALID'],
      ['POST', '/supervisors', { machineId: 'survey', extra: 1 }, 400, 'ERR_MESSAGE_INVALID'],
      ['POST', '/supervisors', { machineId: 'nope' }, 422, 'ERR_MACHINE_NOT_REGISTERED'],
      [
        'POST',
        `/supervisors/${id}/events`,
        { type: 'question.answered', questionId: 'q0', value: 1 },
        400,
        'ERR_EVENT_INVALID',
      ],
      // An event that does not fit is ERR_EVENT_INVALID, as documented; a body that is not
      // JSON at all is ERR_MESSAGE_INVALID on every route.
      ['POST', `/supervisors/${id}/events`, { type: 42 }, 400, 'ERR_EVENT_INVALID'],
      ['POST', `/supervisors/${id}/events`, undefined, 400, 'ERR_EVENT_INVALID'],
      ['POST', `/supervisors/${id}/events`, '{"type": ', 400, 'ERR_MESSAGE_INVALID'],
      ['POST', `/supervisors/${id}/questions/q0/answer`, { value: 'x' }, 400, 'ERR_ANSWER_INVALID'],
      [
        'POST',
        `/supervisors/${id}/questions/zz/answer`,
        { value: 1 },
        409,
        'ERR_QUESTION_NOT_PENDING',
      ],
      [
        'POST',
        `/supervisors/${id}/questions/q0/answer`,
        { value: 'a'.repeat(70_000) },
        413,
        'ERR_MESSAGE_TOO_LARGE',
      ],
      ['GET', `/supervisors/${randomUUID()}`, undefined, 404, 'ERR_SUPERVISOR_NOT_FOUND'],
      // An id that is not a UUID: in a path it names no supervisor, in a body it does not fit.
      ['GET', '/supervisors/not-a-uuid', undefined, 404, 'ERR_SUPERVISOR_NOT_FOUND'],
      ['POST', '/supervisors/not-a-uuid/events', { type: 'x' }, 404, 'ERR_SUPERVISOR_NOT_FOUND'],
      [
        'POST',
        '/supervisors/not-a-uuid/questions/q0/answer',
        { value: 1 },
        404,
        'ERR_SUPERVISOR_NOT_FOUND',
      ],
      [
        'POST',
        '/supervisors',
        { machineId: 'survey', id: 'not-a-uuid' },
        400,
        'ERR_MESSAGE_INVALID',
      ],
      ['GET', '/nowhere', undefined, 404, 'ERR_ROUTE_NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const result = await call(method, path, body);
      expect(result, `${method} ${path}`).toMatchObject({ status, body: { error: { code } } });
    }
    expect((await fixture.host.get(id)).version).toBe(version);
  });

  it('refuses input that does not fit the machine with 400 ERR_INPUT_INVALID and its issues, storing nothing (issue 11)', async () => {
    const rowCount = async () =>
      (await fixture.db.query<{ n: number }>('SELECT count(*)::int AS n FROM supervisor_states'))
        .rows[0]?.n;
    const rows = await rowCount();
    const refused = await call('POST', '/supervisors', {
      machineId: 'reference',
      input: { goal: 5 },
    });
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'ERR_INPUT_INVALID',
          message: expect.stringMatching(/machine reference .*goal/),
          details: {
            issues: expect.arrayContaining([
              expect.objectContaining({ code: 'invalid_type', path: ['goal'] }),
            ]),
          },
        },
      },
    });
    expect(await rowCount()).toBe(rows);

    const created = await call('POST', '/supervisors', {
      machineId: 'reference',
      input: { goal: 'g', steps: ['a'] },
    });
    expect(created.status).toBe(201);
    const schemaless = await call('POST', '/supervisors', {
      machineId: 'invoker',
      input: { goal: 5 },
    });
    expect(schemaless.status).toBe(201);
    expect(await rowCount()).toBe((rows ?? 0) + 2);
  });

  it('needs a token everywhere but /healthz, and an admin token for /metrics', async () => {
    const health = await fetch(`${fixture.server.url}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const anonymous = await fetch(`${fixture.server.url}/supervisors`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
    expect((await call('GET', '/supervisors', undefined, 'wrong-token-0123456789')).status).toBe(
      401,
    );
    expect(
      (
        await fetch(`${fixture.server.url}/metrics`, {
          headers: { authorization: `Bearer ${TOKENS.alice}` },
        })
      ).status,
    ).toBe(403);
    const metrics = await fetch(`${fixture.server.url}/metrics`, {
      headers: { authorization: `Bearer ${TOKENS.admin}` },
    });
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    for (const name of [
      'steward_supervisors{state="waiting_for_user"}',
      'steward_transitions_persisted_total',
      'steward_write_batch_size_bucket',
      'steward_commit_seconds_bucket',
      'steward_questions_pending',
      'steward_questions_delivered_total',
      'steward_answers_total',
      'steward_ws_clients',
    ]) {
      expect(text, name).toContain(name);
    }
    const persisted = Number(/^steward_transitions_persisted_total (\d+)/m.exec(text)?.[1]);
    expect(persisted).toBeGreaterThan(0);
  });
});

describeEachEngine('listening', (engine) => {
  const fixture = useServer(engine);

  it('names a port that is taken in one line', async () => {
    const taken = startServer({
      host: fixture.host,
      tokens: createTokenTable([]),
      metrics: fixture.metrics,
      port: fixture.server.port,
      hostname: '127.0.0.1',
    });
    await expect(taken).rejects.toMatchObject({
      code: 'ERR_PORT_IN_USE',
      message: expect.stringMatching(/^127\.0\.0\.1:\d+ is already in use/),
    });
  });
});
