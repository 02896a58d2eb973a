// Machines that exercise every shape the visualizer reads.
import { and, fromCallback, fromPromise, not, or, setup, spawnChild, stateIn } from 'xstate';

/**
 * Nested, parallel, final and history (shallow and deep) states; named, composed, inline
 * and `stateIn` guards; numeric and named delays; eventless, multi-target, targetless and
 * re-entering transitions; an invoke with onDone/onError, an inline invoke, a spawnChild.
 */
export const kitchenSink = setup({
  actors: {
    fetchData: fromPromise(async () => 1),
    ticker: fromCallback(() => () => {}),
  },
  guards: {
    isReady: () => true,
    isAdmin: () => false,
    isBlocked: () => false,
  },
  delays: { retryDelay: 250 },
  actions: { log: () => {} },
}).createMachine({
  id: 'sink',
  initial: 'idle',
  on: { RESET: '.idle' },
  states: {
    idle: {
      tags: ['initializing', 'quiet'],
      entry: ['log', spawnChild('ticker', { id: 'tick' })],
      exit: 'log',
      on: {
        START: [
          { guard: and(['isReady', not('isBlocked')]), target: 'loading' },
          { guard: or(['isAdmin', and(['isReady', 'isBlocked'])]), target: 'work' },
          { guard: ({ event }) => event.type === 'START', target: 'done' },
        ],
        PING: { actions: 'log' },
        SPLIT: { target: ['work.left.b', 'work.right.d'] },
        AGAIN: { target: 'idle', reenter: true },
        PEEK: { guard: stateIn('#sink.work.left.a'), target: 'paused' },
      },
      after: {
        1000: 'loading',
        retryDelay: { target: 'work', guard: 'isReady' },
      },
    },
    loading: {
      tags: ['working'],
      invoke: {
        id: 'fetch',
        src: 'fetchData',
        onDone: 'work',
        onError: { target: 'failed', guard: not('isAdmin') },
      },
      always: { guard: 'isBlocked', target: 'failed' },
    },
    work: {
      type: 'parallel',
      tags: ['working'],
      onDone: 'done',
      on: { PAUSE: 'paused' },
      states: {
        left: {
          initial: 'a',
          states: {
            a: { on: { NEXT: 'b' } },
            b: {},
            hist: { type: 'history' },
          },
        },
        right: {
          initial: 'c',
          states: {
            c: { initial: 'c1', states: { c1: { on: { ON: 'c2' } }, c2: {} } },
            d: { type: 'final' },
            deep: { type: 'history', history: 'deep', target: 'd' },
          },
        },
      },
    },
    paused: {
      tags: ['paused'],
      invoke: { src: fromPromise(async () => 2) },
      on: { RESUME: 'work.left.hist', RESUME_DEEP: 'work.right.deep' },
    },
    done: { type: 'final', tags: ['completed'] },
    failed: { type: 'final', tags: ['failed'] },
  },
});

/** A small machine whose Mermaid text a test spells out in full. */
export const door = setup({
  guards: { unlocked: () => true },
}).createMachine({
  id: 'door',
  initial: 'closed',
  states: {
    closed: {
      tags: ['waiting_for_user'],
      on: { OPEN: { target: 'opened', guard: 'unlocked' }, KNOCK: {} },
    },
    opened: {
      tags: ['working'],
      initial: 'wide',
      on: { CLOSE: '#door.closed', SLAM: 'end' },
      states: {
        wide: { after: { 500: 'ajar' } },
        ajar: {},
        hist: { type: 'history' },
      },
    },
    stuck: {
      type: 'parallel',
      tags: ['failed'],
      states: { hinge: {}, 'say "hi"; #1': {} },
    },
    end: { type: 'final', tags: ['completed'] },
  },
});
