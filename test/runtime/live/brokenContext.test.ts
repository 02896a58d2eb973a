// A supervisor whose machine assigns a context the standard schema refuses (deriveView in
// src/runtime/live/capture.ts), through the real host: the row becomes `failed` with the
// schema's complaint, and its columns are not taken from the broken context.
import { expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { initialSupervisorContext, type SupervisorContext } from '../../../src/machines/context.ts';
import { listEvents } from '../../../src/persistence/journalRepository.ts';
import { describeEachEngine } from '../../helpers/engines.ts';
import { testHost, useHost } from '../../helpers/host.ts';
import { testRegistry } from '../../helpers/testMachines.ts';

/** Works until told to break its context, one way or another. */
const breakerMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as { type: 'break.progress' } | { type: 'break.questions' },
  },
  actions: {
    overshootProgress: assign({ progress: 150, activity: 'overshooting' }),
    // The schema wants a list; a machine with a bug can still assign anything.
    questionsNotAList: assign({
      pendingQuestions: () => 'not a list' as unknown as SupervisorContext['pendingQuestions'],
    }),
  },
}).createMachine({
  id: 'breaker',
  context: () => ({ ...initialSupervisorContext(), activity: 'working', progress: 40 }),
  initial: 'working',
  states: {
    working: {
      tags: ['working'],
      on: {
        'break.progress': { target: 'broken', actions: 'overshootProgress' },
        'break.questions': { target: 'broken', actions: 'questionsNotAList' },
      },
    },
    broken: { tags: ['working'] },
  },
});

describeEachEngine('a context that breaks the supervisor schema', (engine) => {
  const fixture = useHost(engine);

  async function breakOne(event: 'break.progress' | 'break.questions') {
    const registry = testRegistry();
    registry.register({ id: 'breaker', version: 1, machine: breakerMachine });
    const host = testHost(fixture.db, { registry });
    try {
      const { id } = await host.spawn('breaker', undefined, { owner: 'olga' });
      expect(await host.get(id)).toMatchObject({ state: 'working', progress: 40 });
      await host.send(id, { type: event });
      return { id, row: await host.get(id) };
    } finally {
      await host.stop();
    }
  }

  it('stores the supervisor as failed, naming the field and what is wrong with it', async () => {
    const { id, row } = await breakOne('break.progress');
    expect(row).toMatchObject({
      state: 'failed',
      stateValue: 'broken',
      // Not 150 nor the activity it assigned: no column is taken from a broken context.
      progress: 0,
      currentActivity: null,
      pendingQuestions: [],
    });
    expect(row.errorMessage).toMatch(/^context breaks the supervisor schema at progress: .*100/);
    const errors = (await listEvents(fixture.db, id)).filter((e) => e.kind === 'error');
    expect(errors.map((e) => e.payload)).toEqual([{ message: row.errorMessage }]);
  });

  it('stores pending questions that are not a list as failed, at pendingQuestions', async () => {
    const { row } = await breakOne('break.questions');
    expect(row).toMatchObject({ state: 'failed', pendingQuestions: [] });
    expect(row.errorMessage).toMatch(
      /^context breaks the supervisor schema at pendingQuestions: .*array/,
    );
  });
});
