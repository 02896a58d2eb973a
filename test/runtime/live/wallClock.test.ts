// A hosted supervisor's delayed events never fire before their deadline by the wall clock
// (a plain setTimeout fires a millisecond early by Date.now() now and then: about 2 % of
// 2,000 timers when this was written), so a question's deadline timer resolves it as
// expired, and a timer re-armed after a restart keeps its deadline.
import { describe, expect, it } from 'vitest';
import { wallClock } from '../../../src/runtime/live/wallClock.ts';

describe('the wall clock of hosted supervisors', () => {
  it('fires none of 2,000 timers before its delay has passed by Date.now()', async () => {
    const early: number[] = [];
    const timers: Array<Promise<void>> = [];
    for (let i = 0; i < 2_000; i++) {
      const ms = 1 + (i % 30);
      const at = Date.now();
      timers.push(
        new Promise((resolve) => {
          wallClock.setTimeout(() => {
            if (Date.now() - at < ms) early.push(Date.now() - at - ms);
            resolve();
          }, ms);
        }),
      );
      // Spread the starts over sub-millisecond offsets, where the rounding shows.
      const spin = performance.now();
      while (performance.now() - spin < 0.05) {}
    }
    await Promise.all(timers);
    expect(early).toEqual([]);
  });

  it('does not fire a timer that was cleared, even after re-arming', async () => {
    let fired = false;
    const handle = wallClock.setTimeout(() => {
      fired = true;
    }, 5);
    wallClock.clearTimeout(handle);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toBe(false);
  });
});
