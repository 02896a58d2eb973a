import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { lifecycleOf, otherTagsOf } from '../../src/machines/lifecycle.ts';

const machine = createMachine({
  id: 'doc',
  initial: 'drafting',
  states: {
    drafting: {
      tags: ['working', 'zeta', 'alpha'],
      initial: 'writing',
      states: { writing: { tags: ['mid'] } },
      on: {
        submit: 'review',
        explode: {
          actions: () => {
            throw new Error('boom');
          },
        },
      },
    },
    review: { tags: ['waiting_for_user'] },
  },
});

describe('lifecycleOf', () => {
  it('returns the lifecycle tag of the active state, inherited from a parent or its own', () => {
    const actor = createActor(machine).start();
    expect(lifecycleOf(actor.getSnapshot())).toBe('working');
    actor.send({ type: 'submit' });
    expect(lifecycleOf(actor.getSnapshot())).toBe('waiting_for_user');
    actor.stop();
  });

  it("returns 'failed' for an actor in error status after an action threw", () => {
    const errors: unknown[] = [];
    const actor = createActor(machine);
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    actor.send({ type: 'explode' });
    const snapshot = actor.getSnapshot();
    expect(snapshot.status).toBe('error');
    expect(errors).toEqual([new Error('boom')]);
    // The tags are still those of the state it was in; the error status wins.
    expect(snapshot.hasTag('working')).toBe(true);
    expect(lifecycleOf(snapshot)).toBe('failed');
  });
});

describe('otherTagsOf', () => {
  it('returns every tag but the lifecycle one, sorted', () => {
    const actor = createActor(machine).start();
    expect(otherTagsOf(actor.getSnapshot())).toEqual(['alpha', 'mid', 'zeta']);
    actor.send({ type: 'submit' });
    expect(otherTagsOf(actor.getSnapshot())).toEqual([]);
    actor.stop();
  });
});
