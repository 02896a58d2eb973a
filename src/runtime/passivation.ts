import type { Logger } from '../logger.ts';
import type { AfterCommit } from './afterCommit.ts';
import type { SnapshotWriter } from './commit/snapshotWriter.ts';
import type { LiveSupervisor } from './live/liveSupervisor.ts';
import type { LiveSupervisors } from './live/liveSupervisors.ts';
import type { TaskRunner } from './taskRunner.ts';

/** Longest delay a Node timer takes; a later wake-up is re-armed from there. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A wake-up whose rebuild failed (the database away, say) is tried again this much later. */
const WAKE_RETRY_MS = 5_000;

/**
 * Idle supervisors out of memory: a supervisor waiting for a person costs a timer entry
 * instead of an actor. A sweep takes the idle and settled ones out of service and parks
 * them here; any call brings one back first (`activate`), and a delayed event it was
 * waiting for brings it back at its deadline.
 */
export interface Passivation {
  /**
   * Takes every supervisor idle for `afterMs` and settled (nothing in progress, no task
   * running, its last capture committed) out of memory; returns how many left.
   */
  sweep(afterMs: number): number;
  /** True while the supervisor is passivated here. */
  has(id: string): boolean;
  /**
   * Brings a passivated supervisor back. Callers arriving together share one rebuild; a
   * failed rebuild leaves it passivated, to be tried again by the next call.
   */
  activate(id: string): Promise<LiveSupervisor>;
  /** The passivated supervisors' ids. */
  ids(): IterableIterator<string>;
  readonly size: number;
  /** Stops every wake-up timer. */
  close(): void;
  /** Forgets every passivated supervisor (the database was lost). */
  forgetAll(): void;
  /** Forgets the passivated supervisors `which` names (their slice left this node). */
  forgetWhere(which: (id: string) => boolean): number;
}

/** What passivation works with. */
export interface PassivationOptions {
  lives: LiveSupervisors;
  writer: Pick<SnapshotWriter, 'forget'>;
  runner: Pick<TaskRunner, 'runningFor'>;
  effects: Pick<AfterCommit, 'view' | 'forget'>;
  /** Brings a supervisor back from its stored row and puts it in service. */
  rebuild: (id: string) => Promise<LiveSupervisor>;
  log: Logger;
}

/**
 * Creates the parking lot over the supervisors in service. `rebuild` is the one thing it
 * asks of the host.
 */
export function createPassivation(options: PassivationOptions): Passivation {
  return new ParkingLot(options);
}

class ParkingLot implements Passivation {
  readonly #options: PassivationOptions;
  /** The passivated, each with its wake-up timer (none without a delayed event). */
  readonly #wakes = new Map<string, NodeJS.Timeout | undefined>();
  readonly #activating = new Map<string, Promise<LiveSupervisor>>();

  constructor(options: PassivationOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#wakes.size;
  }

  sweep(afterMs: number): number {
    const { lives, writer, effects } = this.#options;
    const idleSince = Date.now() - afterMs;
    let count = 0;
    for (const live of [...lives.values()]) {
      if (live.activeAt > idleSince || !this.#settled(live)) continue;
      // Delayed events live in the actor system, which goes: their deadlines wake it again.
      const dueAt = live.nextTimerDue();
      lives.remove(live.id);
      live.stop();
      writer.forget(live.id);
      // Its committed view too: a passivated supervisor costs a map entry, not a copy of
      // its questions (its row has them).
      effects.forget(live.id);
      this.#wakes.set(live.id, dueAt === undefined ? undefined : this.#armWake(live.id, dueAt));
      count++;
    }
    return count;
  }

  has(id: string): boolean {
    return this.#wakes.has(id);
  }

  activate(id: string): Promise<LiveSupervisor> {
    const pending = this.#activating.get(id);
    if (pending) return pending;
    const rebuilding = (async () => {
      const live = await this.#options.rebuild(id);
      live.touch();
      clearTimeout(this.#wakes.get(id));
      this.#wakes.delete(id);
      return live;
    })().finally(() => this.#activating.delete(id));
    this.#activating.set(id, rebuilding);
    return rebuilding;
  }

  ids(): IterableIterator<string> {
    return this.#wakes.keys();
  }

  close(): void {
    for (const timer of this.#wakes.values()) clearTimeout(timer);
  }

  forgetAll(): void {
    this.close();
    this.#wakes.clear();
  }

  forgetWhere(which: (id: string) => boolean): number {
    let count = 0;
    for (const [id, timer] of this.#wakes) {
      if (!which(id)) continue;
      clearTimeout(timer);
      this.#wakes.delete(id);
      count++;
    }
    return count;
  }

  /** Nothing about it in progress here, and its last capture committed: it may leave. */
  #settled(live: LiveSupervisor): boolean {
    const { runner, effects } = this.#options;
    if (!live.isSettled() || runner.runningFor(live.id) > 0) return false;
    return effects.view(live.id)?.version === live.version;
  }

  #armWake(id: string, dueAt: number): NodeJS.Timeout {
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, dueAt - Date.now()));
    // Not unref'd: a due timer keeps the process alive as XState's own timers do.
    return setTimeout(() => {
      if (!this.#wakes.has(id)) return;
      if (dueAt > Date.now()) {
        this.#wakes.set(id, this.#armWake(id, dueAt));
        return;
      }
      this.activate(id).catch((error: unknown) => {
        this.#options.log.error(
          { supervisorId: id, err: error },
          'could not wake a passivated supervisor',
        );
        if (this.#wakes.has(id)) this.#wakes.set(id, this.#armWake(id, Date.now() + WAKE_RETRY_MS));
      });
    }, delay);
  }
}
