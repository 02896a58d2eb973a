import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { statePaths } from '../../src/runtime/live/capture.ts';

describe('statePaths', () => {
  it('names every active leaf, atomic regions of a parallel state included', () => {
    const machine = createMachine({
      initial: 'work',
      states: {
        work: {
          type: 'parallel',
          states: {
            log: {},
            steps: { initial: 'first', states: { first: {} } },
            review: {
              initial: 'open',
              states: { open: { initial: 'draft', states: { draft: {} } } },
            },
          },
        },
      },
    });
    const actor = createActor(machine).start();
    // xstate gives the atomic region `log` the value {}: it is still an active state.
    expect(actor.getSnapshot().value).toEqual({
      work: { log: {}, steps: 'first', review: { open: 'draft' } },
    });
    expect(statePaths(actor.getSnapshot().value)).toEqual([
      'work.log',
      'work.steps.first',
      'work.review.open.draft',
    ]);
    actor.stop();
  });
});
