// The one door to XState's private API. Persisting actors needs a few things XState keeps
// to itself (the scheduled delayed events, the scheduler that re-arms them, an actor's
// parent, the internal stop): they are read and called here and nowhere else, and
// test/machines/xstateInternals.test.ts pins what each does to the installed release, so
// an upgrade of xstate fails there first, with the name of what changed.
import type { AnyActorRef } from 'xstate';

/** The xstate release this adapter was written against; stored with every snapshot. */
export const XSTATE_VERSION = '5.33.3';

/** A delayed event XState holds for an actor system, as XState keeps it. */
export interface ScheduledEvent {
  id: string;
  event: unknown;
  /** Absolute deadline: XState keeps a start and a delay, not the deadline. */
  dueAt: number;
  source: AnyActorRef;
  target: AnyActorRef;
}

interface XStateScheduledEvent {
  id: string;
  event: unknown;
  delay: number;
  startedAt: number;
  source: AnyActorRef;
  target: AnyActorRef;
}

interface XStateScheduler {
  schedule(
    source: AnyActorRef,
    target: AnyActorRef,
    event: unknown,
    delay: number,
    id: string,
  ): void;
  cancel(source: AnyActorRef, id: string): void;
}

/** Every delayed event pending in the actor system of `actor` (not kept in its snapshot). */
export function scheduledEvents(actor: AnyActorRef): ScheduledEvent[] {
  const scheduled = (
    actor.system.getSnapshot() as { _scheduledEvents?: Record<string, XStateScheduledEvent> }
  )._scheduledEvents;
  return Object.values(scheduled ?? {}).map((s) => ({
    id: s.id,
    event: s.event,
    dueAt: s.startedAt + s.delay,
    source: s.source,
    target: s.target,
  }));
}

/**
 * Schedules a delayed event in the actor system of `actor` under `id`, as XState's own
 * `after` does: leaving the state that scheduled it cancels it by that id.
 */
export function scheduleEvent(
  actor: AnyActorRef,
  event: { source: AnyActorRef; target: AnyActorRef; event: unknown; delay: number; id: string },
): void {
  const { scheduler } = actor.system as unknown as { scheduler: XStateScheduler };
  scheduler.schedule(event.source, event.target, event.event, event.delay, event.id);
}

/** Cancels the delayed event `source` scheduled under `id` (nothing when there is none). */
export function cancelScheduledEvent(actor: AnyActorRef, source: AnyActorRef, id: string): void {
  const { scheduler } = actor.system as unknown as { scheduler: XStateScheduler };
  scheduler.cancel(source, id);
}

/** The actor's parent, or undefined for a root actor. */
export function parentOf(actor: AnyActorRef): AnyActorRef | undefined {
  return actor._parent;
}

/** The root of the actor's tree (the supervisor itself, for its children). */
export function rootOf(actor: AnyActorRef): AnyActorRef {
  let root = actor;
  for (let parent = parentOf(root); parent; parent = parentOf(root)) root = parent;
  return root;
}

/**
 * Stops an actor even when its parent is in error: the public `stop()` does nothing for a
 * child of an errored parent (research E10), and that child would go on working.
 */
export function forceStop(actor: AnyActorRef): void {
  const internal = actor as AnyActorRef & { _stop?: () => void };
  (internal._stop ?? internal.stop).call(actor);
}

/**
 * Stops the children of an actor that failed from an action: xstate leaves them running
 * (research E10), and they would keep doing work for a supervisor that is gone.
 */
export function forceStopChildren(actor: AnyActorRef): void {
  const children = actor.getSnapshot().children as Record<string, AnyActorRef | undefined>;
  for (const child of Object.values(children ?? {})) if (child) forceStop(child);
}
