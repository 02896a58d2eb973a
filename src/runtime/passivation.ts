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
}

/**
 * Creates the parking lot over the supervisors in service. `rebuild` brings a supervisor
 * back from its stored row and puts it in service: the one thing it asks of the host.
 */
export function createPassivation(options: {
  lives: LiveSupervisors;
  writer: Pick<SnapshotWriter, 'forget'>;
  runner: Pick<TaskRunner, 'runningFor'>;
  effects: Pick<AfterCommit, 'view'>;
  rebuild: (id: string) => Promise<LiveSupervisor>;
  log: Logger;
}): Passivation {
  const { lives, writer, runner, effects } = options;
  const now = Date.now;
  const wakes = new Map<string, NodeJS.Timeout | undefined>();
  const activating = new Map<string, Promise<LiveSupervisor>>();

  function armWake(id: string, dueAt: number): NodeJS.Timeout {
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, dueAt - now()));
    // Not unref'd: a due timer keeps the process alive as XState's own timers do.
    return setTimeout(() => {
      if (!wakes.has(id)) return;
      if (dueAt > now()) {
        wakes.set(id, armWake(id, dueAt));
        return;
      }
      activate(id).catch((error: unknown) => {
        options.log.error(
          { supervisorId: id, err: error },
          'could not wake a passivated supervisor',
        );
        if (wakes.has(id)) wakes.set(id, armWake(id, now() + WAKE_RETRY_MS));
      });
    }, delay);
  }

  function activate(id: string): Promise<LiveSupervisor> {
    const pending = activating.get(id);
    if (pending) return pending;
    const rebuilding = (async () => {
      const live = await options.rebuild(id);
      live.touch();
      clearTimeout(wakes.get(id));
      wakes.delete(id);
      return live;
    })().finally(() => activating.delete(id));
    activating.set(id, rebuilding);
    return rebuilding;
  }

  /** Nothing about it in progress here, and its last capture committed: it may leave. */
  function settled(live: LiveSupervisor): boolean {
    if (!live.isSettled() || runner.runningFor(live.id) > 0) return false;
    return effects.view(live.id)?.version === live.version;
  }

  return {
    sweep(afterMs) {
      const idleSince = now() - afterMs;
      let count = 0;
      for (const live of [...lives.values()]) {
        if (live.activeAt > idleSince || !settled(live)) continue;
        // Delayed events live in the actor system, which goes: their deadlines wake it again.
        const dueAt = live.nextTimerDue();
        lives.remove(live.id);
        live.stop();
        writer.forget(live.id);
        wakes.set(live.id, dueAt === undefined ? undefined : armWake(live.id, dueAt));
        count++;
      }
      return count;
    },
    has: (id) => wakes.has(id),
    activate,
    ids: () => wakes.keys(),
    get size() {
      return wakes.size;
    },
    close() {
      for (const timer of wakes.values()) clearTimeout(timer);
    },
    forgetAll() {
      for (const timer of wakes.values()) clearTimeout(timer);
      wakes.clear();
    },
  };
}
