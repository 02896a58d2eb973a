import type { AnyActor, AnyMachineSnapshot, InspectionEvent, Subscription } from 'xstate';
import { forwardInspection } from './liveEvents.ts';

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
 */
export class ChangeWatch {
  readonly #changed: () => void;
  readonly #outside: ((event: InspectionEvent) => void) | undefined;
  #children: Subscription | undefined;

  constructor(changed: () => void, outside?: (event: InspectionEvent) => void) {
    this.#changed = changed;
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

  /** The root's `next` observer, or none when the system is inspected already. */
  rootObserver(actor: AnyActor): { next?: (snapshot: AnyMachineSnapshot) => void } {
    if (this.#outside) return {};
    return { next: (snapshot) => this.#rootChanged(actor, snapshot) };
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
    this.#changed();
  }

  #inspected(event: InspectionEvent): void {
    // `stopped` snapshots come from stop(), after the final flush: never persisted.
    if (event.type !== '@xstate.snapshot' || event.snapshot.status === 'stopped') return;
    this.#changed();
  }
}
