// Supervisors a lazy restart left in their rows (typically waiting for a person): nothing
// of them is in memory until their first touch — an answer, an event, a command — or until
// a timer of theirs comes due, found by the `next_timer_at` index rather than a scan.
import type { Logger } from '../logger.ts';
import type { SupervisorState } from '../model/supervisor.ts';
import type { TimerDue } from '../persistence/supervisorRepository.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import { isTerminal } from './commit/committedChanges.ts';
import type { LiveSupervisor } from './live/liveSupervisor.ts';
import type { LiveSupervisors } from './live/liveSupervisors.ts';
import type { Restorer } from './restorer.ts';

/** How many due supervisors one wake-up round reads at a time. */
const WAKE_PAGE = 500;

/** What lazy restore works with. */
export interface LazyRestoreOptions {
  store: Pick<SupervisorStore, 'getSupervisor' | 'listTimersDue'>;
  restorer: Pick<Restorer, 'firstTouch'>;
  lives: Pick<LiveSupervisors, 'get' | 'has'>;
  /** Passivated supervisors wake on their own timers: skipped here. */
  passivated: (id: string) => boolean;
  /** Several nodes: only the supervisors of these slices are this node's to wake. */
  slices?: () => readonly number[] | undefined;
  /** A timer due within this many ms brings its supervisor into memory ahead of it. */
  lookaheadMs: number;
  log: Logger;
}

/** First touches and due timers of the supervisors a lazy restart deferred. */
export class LazyRestore {
  readonly #options: LazyRestoreOptions;
  /** First touches under way: callers arriving together share one restore. */
  readonly #touching = new Map<string, Promise<LiveSupervisor>>();
  #waking = false;
  /** Deferred by the last restart and not touched since. */
  #deferred = 0;
  #touched = 0;

  constructor(options: LazyRestoreOptions) {
    this.#options = options;
  }

  /** When a restart restores eagerly: those with work in flight or a timer due before it. */
  dueBefore(now = Date.now()): Date {
    return new Date(now + this.#options.lookaheadMs);
  }

  /** A restart left `count` supervisors in their rows (of more slices: `more` of them). */
  deferredAtRestart(count: number, more = false): void {
    if (more) {
      this.#deferred += count;
      return;
    }
    this.#deferred = count;
    this.#touched = 0;
  }

  /** How many supervisors are still left in their rows (approximately: finished ones too). */
  get deferred(): number {
    return Math.max(0, this.#deferred - this.#touched);
  }

  /** Brings an unfinished stored supervisor into service with the seed's steps, once. */
  touch(stored: SupervisorState): Promise<LiveSupervisor> {
    const pending = this.#touching.get(stored.id);
    if (pending) return pending;
    const live = this.#options.lives.get(stored.id);
    if (live && !live.isFinished()) return Promise.resolve(live);
    const restoring = this.#options.restorer
      .firstTouch(stored)
      .then((restored) => {
        this.#touched++;
        return restored;
      })
      .finally(() => this.#touching.delete(stored.id));
    this.#touching.set(stored.id, restoring);
    return restoring;
  }

  /**
   * Brings into memory every supervisor not here whose next timer is due within the
   * lookahead, so that its own timer fires on time. One round at a time.
   */
  async wakeDue(): Promise<number> {
    if (this.#waking) return 0;
    this.#waking = true;
    let woken = 0;
    try {
      const { store, log } = this.#options;
      const dueBefore = this.dueBefore();
      const slices = this.#options.slices?.();
      let after: TimerDue | undefined;
      for (;;) {
        const page = await store.listTimersDue({
          dueBefore,
          limit: WAKE_PAGE,
          ...(after ? { after } : {}),
          ...(slices ? { slices } : {}),
        });
        for (const { id } of page) {
          if (await this.#wake(id)) woken++;
        }
        if (page.length < WAKE_PAGE) break;
        after = page.at(-1);
      }
      if (woken > 0) log.debug({ woken }, 'deferred supervisors woken for their timers');
      return woken;
    } finally {
      this.#waking = false;
    }
  }

  /** Brings one due supervisor in, unless it is here already; true when it did. */
  async #wake(id: string): Promise<boolean> {
    const { store, lives, passivated, log } = this.#options;
    if (lives.has(id) || passivated(id) || this.#touching.has(id)) return false;
    const stored = await store.getSupervisor(id);
    if (!stored || isTerminal(stored.state)) return false;
    try {
      await this.touch(stored);
      return true;
    } catch (error) {
      log.error({ supervisorId: id, err: error }, 'could not wake a deferred supervisor');
      return false;
    }
  }
}
