// Delayed events across a restore: XState's persisted snapshot does not carry them, so the
// capture records them (capture.ts#captureTimers) and a restore schedules them again here.
import type { AnyActor, AnyActorRef } from 'xstate';
import { scheduledEvents, scheduleEvent } from '../../machines/xstateInternals.ts';
import type { TimerRecord } from './capture.ts';

/** The ids of the delayed events `root` scheduled to itself whose id starts with `prefix`. */
export function ownTimerIds(root: AnyActor, prefix: string): Set<string> {
  return new Set(
    scheduledEvents(root)
      .filter((s) => s.source === root && s.id.startsWith(prefix))
      .map((s) => s.id),
  );
}

/**
 * Schedules stored delayed events in the actor tree of `root` at their original deadlines
 * (at once when overdue), with their original ids so that leaving the state still cancels
 * them. Returns the ids whose source or target actor is gone.
 */
export function rearmTimers(root: AnyActor, timers: readonly TimerRecord[], now: number): string[] {
  const gone: string[] = [];
  for (const timer of timers) {
    const source = childAt(root, timer.sourcePath);
    const target = childAt(root, timer.targetPath);
    if (!source || !target) gone.push(timer.id);
    else schedule(root, source, target, timer, now);
  }
  return gone;
}

/** The actor at `path` (child ids from the root) in the tree of `root`, if it is there. */
function childAt(root: AnyActorRef, path: readonly string[]): AnyActorRef | undefined {
  let ref: AnyActorRef | undefined = root;
  for (const id of path) {
    ref = (ref?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)
      ?.children?.[id];
  }
  return ref;
}

function schedule(
  root: AnyActor,
  source: AnyActorRef,
  target: AnyActorRef,
  timer: TimerRecord,
  now: number,
): void {
  scheduleEvent(root, {
    source,
    target,
    event: timer.event,
    delay: Math.max(0, timer.dueAt - now),
    id: timer.id,
  });
}
