import type { Logger } from '../logger.ts';
import { captureTimers } from './live/capture.ts';
import type { HostedSupervisor } from './live/liveSupervisor.ts';

/** Longest delay a Node timer takes; a later wake-up is re-armed from there. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A wake-up whose rebuild failed (the database away, say) is tried again this much later. */
const WAKE_RETRY_MS = 5_000;

/** What passivation needs from the host. */
export interface PassivationDeps {
  /** Idle this long (no call, no change) before a supervisor may leave memory. */
  afterMs: number;
  /** The host's supervisors in memory; passivation removes from it, activation adds. */
  hosted: Map<string, HostedSupervisor>;
  /**
   * True when nothing about the supervisor is in progress: every capture committed, no
   * answer in flight, no task or invoked actor running, no event waiting. Checked just
   * before it leaves.
   */
  settled(hosted: HostedSupervisor): boolean;
  /** Called once a supervisor left memory: what else the host keeps of it can go. */
  left(id: string): void;
  /** Rebuilds a passivated supervisor from its stored row and puts it back in `hosted`. */
  rebuild(id: string): Promise<HostedSupervisor>;
  log: Logger;
}

/**
 * Idle supervisors out of memory: a supervisor waiting for a person costs a timer entry
 * instead of an actor. Any call brings it back first, and a delayed event it was waiting
 * for brings it back at its deadline.
 */
export interface Passivation {
  /** True while the supervisor is passivated here. */
  has(id: string): boolean;
  /**
   * Brings a passivated supervisor back. Callers arriving together share one rebuild; a
   * failed rebuild leaves it passivated, to be tried again by the next call.
   */
  activate(id: string): Promise<HostedSupervisor>;
  /** The passivated supervisors' ids. */
  ids(): IterableIterator<string>;
  readonly size: number;
  /** Stops the sweep and every wake-up timer. */
  close(): void;
  /** Forgets every passivated supervisor (the database was lost); the sweep goes on. */
  forgetAll(): void;
}

interface Entry {
  wake: NodeJS.Timeout | undefined;
}

/** Starts passivating idle supervisors of `hosted`, sweeping a few times per `afterMs`. */
export function createPassivation(deps: PassivationDeps): Passivation {
  const now = Date.now;
  const entries = new Map<string, Entry>();
  const activating = new Map<string, Promise<HostedSupervisor>>();
  const sweepTimer = setInterval(sweep, Math.min(5_000, Math.max(25, deps.afterMs / 2)));
  sweepTimer.unref();

  function armWake(id: string, dueAt: number): NodeJS.Timeout {
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, dueAt - now()));
    const timer = setTimeout(() => {
      const entry = entries.get(id);
      if (!entry) return;
      if (dueAt > now()) {
        entry.wake = armWake(id, dueAt);
        return;
      }
      activate(id).catch((error: unknown) => {
        deps.log.error({ supervisorId: id, err: error }, 'could not wake a passivated supervisor');
        const still = entries.get(id);
        if (still) still.wake = armWake(id, now() + WAKE_RETRY_MS);
      });
    }, delay);
    // Not unref'd: a due timer keeps the process alive as XState's own timers do.
    return timer;
  }

  function passivate(hosted: HostedSupervisor): void {
    const { id } = hosted.identity;
    // Delayed events live in the actor system, which goes: their deadlines wake it again.
    const dueAt = Math.min(...captureTimers(hosted.actor).map((t) => t.dueAt));
    deps.hosted.delete(id);
    hosted.actor.stop();
    entries.set(id, { wake: Number.isFinite(dueAt) ? armWake(id, dueAt) : undefined });
    deps.left(id);
  }

  function sweep(): void {
    const idleSince = now() - deps.afterMs;
    let count = 0;
    for (const hosted of deps.hosted.values()) {
      if (hosted.activeAt > idleSince || activating.has(hosted.identity.id)) continue;
      if (!deps.settled(hosted)) continue;
      passivate(hosted);
      count++;
    }
    if (count > 0) deps.log.debug({ passivated: count, total: entries.size }, 'passivated');
  }

  function activate(id: string): Promise<HostedSupervisor> {
    const pending = activating.get(id);
    if (pending) return pending;
    const rebuilding = (async () => {
      const hosted = await deps.rebuild(id);
      hosted.activeAt = now();
      clearTimeout(entries.get(id)?.wake);
      entries.delete(id);
      return hosted;
    })().finally(() => activating.delete(id));
    activating.set(id, rebuilding);
    return rebuilding;
  }

  return {
    has: (id) => entries.has(id),
    activate,
    ids: () => entries.keys(),
    get size() {
      return entries.size;
    },
    close() {
      clearInterval(sweepTimer);
      for (const entry of entries.values()) clearTimeout(entry.wake);
    },
    forgetAll() {
      for (const entry of entries.values()) clearTimeout(entry.wake);
      entries.clear();
    },
  };
}
