import { describe, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { sameJson } from '../../src/runtime/live/repeatedAnswer.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testHost, useHost } from '../helpers/host.ts';

/** The refusal a promise rejects with, or a failure when it resolves. */
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    (result) => new Error(`expected a refusal, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  if (!isStewardError(error)) throw error;
  return error;
}

describe('sameJson', () => {
  it('compares JSON values deeply, objects whatever their key order', () => {
    expect(sameJson({ a: 1, b: { c: [1, 'x', null] } }, { b: { c: [1, 'x', null] }, a: 1 })).toBe(
      true,
    );
    expect(sameJson({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(sameJson(1, '1')).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson([], {})).toBe(false);
    expect(sameJson({ 0: 'a' }, ['a'])).toBe(false);
    expect(sameJson(true, true)).toBe(true);
  });
});

describeEachEngine('a repeated answer', (engine) => {
  const fixture = useHost(engine);
  const spawnReference = () => fixture.host.spawn('reference', { goal: 'g', steps: ['a'] });
  const answersOf = async (id: string) =>
    (await listEvents(fixture.db, id)).filter((e) => e.kind === 'question_answered');

  it('refuses another value sent while the first is on its way, with the first, and writes nothing', async () => {
    const { id } = await spawnReference();
    // Both calls start in the same tick: the second finds the first in flight, uncommitted.
    const [won, lost] = await Promise.allSettled([
      fixture.host.answer(id, 'approve-plan', true, { answeredBy: 'alice' }),
      fixture.host.answer(id, 'approve-plan', false, { answeredBy: 'bob' }),
    ]);
    expect(won).toEqual({ status: 'fulfilled', value: { version: 2, duplicate: false } });
    expect(lost.status).toBe('rejected');
    const error = (lost as PromiseRejectedResult).reason;
    expect(isStewardError(error, 'ERR_ALREADY_ANSWERED')).toBe(true);
    expect(error.details).toEqual({
      id,
      questionId: 'approve-plan',
      recorded: { value: true, answeredBy: 'alice', version: 2 },
    });
    expect(await answersOf(id)).toHaveLength(1);
    expect((await fixture.host.get(id)).version).toBe(2);
  });

  it('acks the same value sent while the first is on its way as a duplicate', async () => {
    const { id } = await spawnReference();
    const results = await Promise.all([
      fixture.host.answer(id, 'approve-plan', true),
      fixture.host.answer(id, 'approve-plan', true),
    ]);
    expect(results).toEqual([
      { version: 2, duplicate: false },
      { version: 2, duplicate: true },
    ]);
  });

  it('judges a repeat by the journal after a restart, objects whatever their key order', async () => {
    const first = testHost(fixture.db);
    const { id } = await first.spawn('form', undefined);
    const value = { b: [1, { d: 'x', c: null }], a: 'first' };
    const reordered = { a: 'first', b: [1, { c: null, d: 'x' }] };
    // On its way: the same object with its keys in another order is the same answer.
    const [taken, repeat] = await Promise.all([
      first.answer(id, 'details', value, { answeredBy: 'alice' }),
      first.answer(id, 'details', reordered),
    ]);
    const { version } = taken;
    expect(repeat).toEqual({ version, duplicate: true });
    await first.stop();

    const second = testHost(fixture.db);
    await second.restoreAll('restart');
    try {
      // Committed: jsonb gave the recorded object its own key order.
      expect(await second.answer(id, 'details', value)).toEqual({ version, duplicate: true });
      const error = await refusal(second.answer(id, 'details', { ...value, a: 'second' }));
      expect(error.code).toBe('ERR_ALREADY_ANSWERED');
      expect(error.details.recorded).toEqual({ value: reordered, answeredBy: 'alice', version });
      expect(await answersOf(id)).toHaveLength(1);
      expect((await second.get(id)).version).toBe(version);
    } finally {
      await second.stop();
    }
  });

  it('refuses another value for a supervisor its answer finished, and acks the same one', async () => {
    const { id } = await fixture.host.spawn('quiz', { count: 1 });
    const { version } = await fixture.host.answer(id, 'q0', 7);
    expect((await fixture.host.get(id)).state).toBe('completed');
    expect(await fixture.host.answer(id, 'q0', 7)).toEqual({ version, duplicate: true });
    const error = await refusal(fixture.host.answer(id, 'q0', 8));
    expect(error.code).toBe('ERR_ALREADY_ANSWERED');
    expect(error.details.recorded).toEqual({ value: 7, answeredBy: null, version });
  });
});
