// The clock XState schedules a hosted supervisor's delayed events with. Node counts a
// timer from the event loop's cached time, which lags the wall clock during a long turn
// (a page of restores, say), and Date.now() has whole milliseconds: a plain setTimeout can
// fire a little before its deadline by the wall clock. A deadline timer that fires early
// would resolve its question as withdrawn rather than expired, and a re-armed timer would
// fire before the deadline it kept across the restart.
import type { ActorOptions, AnyActorLogic } from 'xstate';

/** XState's clock interface (not exported by name). */
type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** Longest delay Node's setTimeout takes; it fires at once (after 1 ms) for a longer one. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Handle {
  timer: NodeJS.Timeout | undefined;
}

/**
 * Fires no earlier than `ms` after the call by `Date.now()`, re-arming for what is left (a
 * deadline weeks away, past Node's longest timer, too).
 */
export const wallClock: Clock = {
  setTimeout(fn: () => void, ms: number): Handle {
    const due = Date.now() + ms;
    const handle: Handle = { timer: undefined };
    const arm = (delay: number) => {
      handle.timer = setTimeout(
        () => {
          const left = due - Date.now();
          if (left > 0) arm(left);
          else fn();
        },
        Math.min(delay, MAX_TIMER_MS),
      );
    };
    arm(ms);
    return handle;
  },
  clearTimeout(handle: Handle | undefined): void {
    if (handle) clearTimeout(handle.timer);
  },
};
