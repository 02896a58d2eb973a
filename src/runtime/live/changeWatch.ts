import type { AnyActor, AnyMachineSnapshot, InspectionEvent, Subscription } from 'xstate';
import { forwardInspection } from './liveEvents.ts';

/** What a ChangeWatch tells its supervisor (LiveSupervisor implements it). */
export interface WatchedSupervisor {
  /** Its persisted snapshot may have changed: its root's, or a child's. */
  snapshotChanged(): void;
  /** The root took an event, after `snapshotChanged` (the timers look at it). */
  rootTookEvent(snapshot: AnyMachineSnapshot): void;
  /** The root failed. */
  rootFailed(error: unknown): void;
}

/**
 * Tells a supervisor when its persisted snapshot may have changed: its root actor's
 * snapshot, or the snapshot of any actor it invoked or spawned (an invoked machine's own
 * timer changes only the child, and the child is persisted with it).
 *
 * The root is followed by a subscription. xstate's inspection, which sees every actor of
 * the system, is attached only while the root has children: inspecting builds several
 * event objects per transition, a cost a childless supervisor need not pay
 * (bench/profile.md). An outside inspector (Stately's) sees every event, so with one the
 * whole system is inspected from the start.
 *
 * It is also the root actor's observer: methods on a class, not closures in an object
 * literal, so that a hosted supervisor keeps no functions of its own for watching
 * (bench/README.md, heap per idle supervisor).
 */
export class ChangeWatch {
  readonly #owner: WatchedSupervisor;
  readonly #outside: ((event: InspectionEvent) => void) | undefined;
  #actor: AnyActor | undefined;
  #children: Subscription | undefined;

  constructor(owner: WatchedSupervisor, outside?: (event: InspectionEvent) => void) {
    this.#owner = owner;
    this.#outside = outside;
  }

  /** What `createActor` takes: the system's inspection when an outside inspector wants it. */
  actorOptions(): { inspect?: (event: InspectionEvent) => void } {
    const outside = this.#outside;
    if (!outside) return {};
    return {
      inspect: (event) => {
        forwardInspection(outside, event);
        this.#inspected(event);
      },
    };
  }

  /** Follows `actor`, the root (before it starts). */
  observe(actor: AnyActor): void {
    this.#actor = actor;
    actor.subscribe(this);
  }

  /** The root's snapshot after each event it took (xstate calls it). */
  next(snapshot: AnyMachineSnapshot): void {
    // With an outside inspector the whole system is inspected already.
    if (!this.#outside && this.#actor) this.#rootChanged(this.#actor, snapshot);
    this.#owner.rootTookEvent(snapshot);
  }

  /** The root failed (xstate calls it). An error observer keeps xstate from rethrowing. */
  error(error: unknown): void {
    this.#owner.rootFailed(error);
  }

  #rootChanged(actor: AnyActor, snapshot: AnyMachineSnapshot): void {
    const hasChildren = Object.keys(snapshot.children ?? {}).length > 0;
    if (hasChildren && !this.#children) {
      this.#children = actor.system.inspect((event: InspectionEvent) => {
        if (event.actorRef !== actor) this.#inspected(event);
      });
    } else if (!hasChildren && this.#children) {
      this.#children.unsubscribe();
      this.#children = undefined;
    }
    this.#owner.snapshotChanged();
  }

  #inspected(event: InspectionEvent): void {
    // `stopped` snapshots come from stop(), after the final flush: never persisted.
    if (event.type !== '@xstate.snapshot' || event.snapshot.status === 'stopped') return;
    this.#owner.snapshotChanged();
  }
}
