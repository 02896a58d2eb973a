// A hosted supervisor's delayed events never fire before their deadline by the wall clock
// (a plain setTimeout fires a millisecond early by Date.now() now and then: about 2 % of
// 2,000 timers when this was written), so a question's deadline timer resolves it as
// expired, and a timer re-armed after a restart keeps its deadline.
import { describe, expect, it, vi } from 'vitest';
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

  it('waits out a delay past the longest Node timer instead of firing and re-arming each ms', async () => {
    // A question due in 40 days: Node fires any setTimeout over 2^31-1 ms after 1 ms.
    const armed = vi.spyOn(globalThis, 'setTimeout');
    let fired = false;
    const handle = wallClock.setTimeout(
      () => {
        fired = true;
      },
      40 * 24 * 60 * 60 * 1000,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fired).toBe(false);
      // This test's own sleep is the other call.
      expect(armed.mock.calls.length).toBe(2);
      expect(armed.mock.calls[0]?.[1]).toBe(2 ** 31 - 1);
    } finally {
      wallClock.clearTimeout(handle);
      armed.mockRestore();
    }
  });
});
