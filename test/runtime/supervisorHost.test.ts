import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ErrorCode, isStewardError, type StewardError } from '../../src/errors.ts';
import { ReferenceInput, referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testHost, useHost } from '../helpers/host.ts';
import { testRegistry } from '../helpers/testMachines.ts';

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (isStewardError(error)) return error.code;
    throw error;
  }
}

describeEachEngine('supervisor host', (engine) => {
  const fixture = useHost(engine);

  const spawnReference = () => fixture.host.spawn('reference', { goal: 'g', steps: ['a', 'b'] });

  describe('answers', () => {
    it('applies a repeated answer once and reports it as a duplicate', async () => {
      const { id } = await spawnReference();
      expect(await fixture.host.answer(id, 'approve-plan', true)).toEqual({
        version: 2,
        duplicate: false,
      });
      expect(await fixture.host.answer(id, 'approve-plan', true)).toEqual({
        version: 2,
        duplicate: true,
      });
      const answers = (await listEvents(fixture.db, id)).filter(
        (e) => e.kind === 'question_answered',
      );
      expect(answers).toHaveLength(1);
      expect((await fixture.host.get(id)).version).toBe(2);
    });

    it('applies one of ten simultaneous answers to the same question', async () => {
      const { id } = await spawnReference();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => fixture.host.answer(id, 'approve-plan', true)),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.version))).toEqual(new Set([2]));
      const spawned = (await listEvents(fixture.db, id)).filter((e) => e.kind === 'task_spawned');
      expect(spawned).toHaveLength(2);
    });

    it('refuses an answer of the wrong kind with zod issues and changes nothing', async () => {
      const { id, version } = await spawnReference();
      const error = await fixture.host.answer(id, 'approve-plan', 'yes').catch((e: unknown) => e);
      expect(isStewardError(error, 'ERR_ANSWER_INVALID')).toBe(true);
      expect((error as { details: { issues: unknown[] } }).details.issues.length).toBeGreaterThan(
        0,
      );
      expect((await fixture.host.get(id)).version).toBe(version);
      expect(fixture.host.local(id)?.version).toBe(version);
    });

    it('refuses an answer to a question that was never asked', async () => {
      const { id } = await spawnReference();
      expect(await codeOf(fixture.host.answer(id, 'no-such-question', true))).toBe(
        'ERR_QUESTION_NOT_PENDING',
      );
    });

    it('refuses an answer the supervisor cannot take in its current state', async () => {
      const { id } = await spawnReference();
      await fixture.host.pause(id);
      expect(await codeOf(fixture.host.answer(id, 'approve-plan', true))).toBe(
        'ERR_ANSWER_NOT_ACCEPTED',
      );
      expect((await fixture.host.get(id)).pendingQuestions.map((q) => q.id)).toEqual([
        'approve-plan',
      ]);
    });

    it('recognises an answer to a finished supervisor as a duplicate', async () => {
      const { id } = await fixture.host.spawn('reference', { goal: 'g', steps: ['a'] });
      await fixture.host.answer(id, 'approve-plan', true);
      const [taskId] = (await fixture.host.get(id)).spawnedTaskIds;
      await fixture.host.send(id, { type: 'task.completed', taskId, result: null });
      await fixture.host.answer(id, 'final-approval', true);
      expect(fixture.host.local(id)).toBeUndefined();
      expect(await fixture.host.answer(id, 'final-approval', true)).toMatchObject({
        duplicate: true,
      });
      expect(await codeOf(fixture.host.answer(id, 'other', true))).toBe(
        'ERR_SUPERVISOR_TERMINATED',
      );
    });
  });

  describe('bad input', () => {
    it('names unknown supervisors, malformed ids and unknown machines', async () => {
      expect(await codeOf(fixture.host.send(randomUUID(), { type: 'x' }))).toBe(
        'ERR_SUPERVISOR_NOT_FOUND',
      );
      expect(await codeOf(fixture.host.send('not-a-uuid', { type: 'x' }))).toBe(
        'ERR_SUPERVISOR_NOT_FOUND',
      );
      expect(await codeOf(fixture.host.get('not-a-uuid'))).toBe('ERR_SUPERVISOR_NOT_FOUND');
      expect(await codeOf(fixture.host.spawn('no-such-machine', {}))).toBe(
        'ERR_MACHINE_NOT_REGISTERED',
      );
      expect(await codeOf(fixture.host.spawn('reference', {}, { id: 'x' }))).toBe('ERR_VALIDATION');
    });

    it('refuses a second supervisor with the same id', async () => {
      const { id } = await spawnReference();
      expect(await codeOf(fixture.host.spawn('reference', { goal: 'g', steps: [] }, { id }))).toBe(
        'ERR_SUPERVISOR_EXISTS',
      );
    });

    it('refuses malformed events and events with no transition, changing nothing', async () => {
      const { id, version } = await spawnReference();
      for (const event of [null, 'go', { kind: 'x' }, { type: 42 }, { type: '' }]) {
        expect(await codeOf(fixture.host.send(id, event))).toBe('ERR_EVENT_INVALID');
      }
      expect(
        await codeOf(fixture.host.send(id, { type: 'task.completed', taskId: randomUUID() })),
      ).toBe('ERR_EVENT_NOT_ACCEPTED');
      expect(await codeOf(fixture.host.send(id, { type: 'unknown.event' }))).toBe(
        'ERR_EVENT_NOT_ACCEPTED',
      );
      expect((await fixture.host.get(id)).version).toBe(version);
    });
  });

  describe('input checked at creation (issue 11)', () => {
    const rowCount = async () =>
      (await fixture.db.query<{ n: number }>('SELECT count(*)::int AS n FROM supervisor_states'))
        .rows[0]?.n;

    it('refuses input that does not fit the schema with zod issues, storing and starting nothing', async () => {
      const rows = await rowCount();
      const inMemory = fixture.host.size();
      const id = randomUUID();
      const error = await fixture.host.spawn('reference', { goal: 5 }, { id }).catch((e) => e);
      expect(isStewardError(error, 'ERR_INPUT_INVALID')).toBe(true);
      expect((error as StewardError).message).toMatch(/machine reference .*goal/);
      expect((error as StewardError).details.issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            code: 'invalid_type',
            path: ['goal'],
            message: expect.any(String),
          }),
        ]),
      );
      for (const input of [undefined, null, { goal: '', steps: [] }, { goal: 'g', steps: [''] }]) {
        expect(await codeOf(fixture.host.spawn('reference', input)), JSON.stringify(input)).toBe(
          'ERR_INPUT_INVALID',
        );
      }
      expect(await rowCount()).toBe(rows);
      expect(fixture.host.size()).toBe(inMemory);
      expect(await codeOf(fixture.host.get(id))).toBe('ERR_SUPERVISOR_NOT_FOUND');
    });

    it('gives the machine the parsed input, defaults applied', async () => {
      const registry = testRegistry();
      registry.register({
        id: 'defaulted',
        version: 1,
        machine: referenceSupervisor,
        input: z.object({
          goal: z.string().default('an unnamed goal'),
          steps: z.array(z.string()).default([]),
        }),
      });
      const host = testHost(fixture.db, { registry });
      try {
        const { id } = await host.spawn('defaulted', {});
        const stored = await host.get(id);
        expect(stored.input).toEqual({ goal: 'an unnamed goal', steps: [] });
        expect(stored.pendingQuestions[0]?.prompt).toContain('an unnamed goal');
      } finally {
        await host.stop();
      }
    });

    it("checks the input against the newest version's schema", async () => {
      const registry = testRegistry();
      registry.register({
        id: 'renamed',
        version: 1,
        machine: referenceSupervisor,
        input: z.object({ title: z.string() }),
      });
      registry.register({
        id: 'renamed',
        version: 2,
        machine: referenceSupervisor,
        input: ReferenceInput,
      });
      const host = testHost(fixture.db, { registry });
      try {
        expect(await codeOf(host.spawn('renamed', { title: 't' }))).toBe('ERR_INPUT_INVALID');
        expect(await codeOf(host.spawn('renamed', { goal: 'g', steps: [] }))).toBe('resolved');
      } finally {
        await host.stop();
      }
    });

    it('passes any input to a machine without a schema, as before', async () => {
      const input = { anything: [1, 'two'], goal: 5 };
      const { id } = await fixture.host.spawn('invoker', input);
      expect((await fixture.host.get(id)).input).toEqual(input);
    });
  });

  describe('pause, resume, cancel', () => {
    it('pauses and resumes to the same state without asking again', async () => {
      const { id } = await spawnReference();
      await fixture.host.answer(id, 'approve-plan', true);
      const before = await fixture.host.get(id);
      await fixture.host.pause(id);
      expect(await fixture.host.get(id)).toMatchObject({ state: 'paused', stateValue: 'paused' });
      expect(await codeOf(fixture.host.pause(id))).toBe('ERR_EVENT_NOT_ACCEPTED');
      await fixture.host.resume(id);
      const after = await fixture.host.get(id);
      expect(after).toMatchObject({ state: before.state, stateValue: before.stateValue });
      expect(after.spawnedTaskIds).toEqual(before.spawnedTaskIds);
    });

    it('cancels: withdraws the questions, finishes, and takes no more events', async () => {
      const { id } = await spawnReference();
      const { version } = await fixture.host.cancel(id, 'no longer needed');
      expect(await fixture.host.get(id)).toMatchObject({
        state: 'cancelled',
        pendingQuestions: [],
        currentActivity: 'cancelled: no longer needed',
      });
      const journal = await listEvents(fixture.db, id);
      expect(journal.at(-1)).toMatchObject({
        version,
        kind: 'question_withdrawn',
        payload: { questionId: 'approve-plan' },
      });
      expect(await codeOf(fixture.host.resume(id))).toBe('ERR_SUPERVISOR_TERMINATED');
      expect(fixture.host.local(id)).toBeUndefined();
    });
  });

  describe('failure isolation', () => {
    it('fails only the supervisor whose action threw, with its error persisted', async () => {
      const fragile = await fixture.host.spawn('fragile', undefined);
      const healthy = await fixture.host.spawn('fragile', undefined);
      await fixture.host.send(fragile.id, { type: 'boom' });
      await expect
        .poll(async () => (await fixture.host.get(fragile.id)).state, { timeout: 5_000 })
        .toBe('failed');
      expect((await fixture.host.get(fragile.id)).errorMessage).toBe(
        'the fragile supervisor exploded',
      );
      expect(await codeOf(fixture.host.send(fragile.id, { type: 'poke' }))).toBe(
        'ERR_SUPERVISOR_TERMINATED',
      );
      await fixture.host.send(healthy.id, { type: 'poke' });
      expect(await fixture.host.get(healthy.id)).toMatchObject({
        state: 'working',
        currentActivity: 'poked',
      });
      const errors = (await listEvents(fixture.db, fragile.id)).filter((e) => e.kind === 'error');
      // Where it broke is kept with it: the stack, from the thrown Error, naming the action.
      expect(errors.map((e) => e.payload)).toEqual([
        {
          message: 'the fragile supervisor exploded',
          stack: expect.stringMatching(
            /^Error: the fragile supervisor exploded\n\s+at Object\.explode/,
          ),
        },
      ]);
      expect(errors[0]?.stateValue).toBe('idle');
    });

    it('fails a supervisor whose invoked work rejects with no handler, and only it', async () => {
      const doomed = await fixture.host.spawn('rejecting', undefined);
      const bystander = await fixture.host.spawn('rejecting', undefined);
      await fixture.host.send(doomed.id, { type: 'start' });
      await expect
        .poll(async () => (await fixture.host.get(doomed.id)).state, { timeout: 5_000 })
        .toBe('failed');
      expect((await fixture.host.get(doomed.id)).errorMessage).toContain(
        'the invoked work rejected',
      );
      expect((await fixture.host.get(bystander.id)).state).toBe('working');
    });
  });

  describe('stop', () => {
    it('refuses new calls after stop and can be called twice', async () => {
      const other = testHost(fixture.db);
      const { id } = await other.spawn('reference', { goal: 'g', steps: [] });
      await Promise.all([other.stop(), other.stop()]);
      expect(await codeOf(other.answer(id, 'approve-plan', true))).toBe('ERR_RUNTIME_STOPPED');
      expect(await codeOf(other.spawn('reference', {}))).toBe('ERR_RUNTIME_STOPPED');
    });
  });
});
