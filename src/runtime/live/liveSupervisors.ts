import type { Logger } from '../../logger.ts';
import type { SnapshotWriter } from '../commit/snapshotWriter.ts';
import type { LiveObserver, LiveSupervisor } from './liveSupervisor.ts';

/**
 * The supervisors in memory here, by id, and the door from each to the writer: a capture
 * of one in service becomes a queued write; one that left (dropped, released) writes
 * nothing more, whatever its actor still emits.
 */
export class LiveSupervisors {
  readonly #byId = new Map<string, LiveSupervisor>();
  readonly #writer: Pick<SnapshotWriter, 'enqueue'>;
  #observing = true;

  /**
   * Given to every live supervisor: its changes between calls are captured once the
   * current turn is done; a failure is logged and captured (the row says `failed`).
   */
  readonly observer: LiveObserver;

  constructor(writer: Pick<SnapshotWriter, 'enqueue'>, log: Logger) {
    this.#writer = writer;
    this.observer = {
      changed: (live) =>
        queueMicrotask(() => {
          if (this.#observing) this.capture(live);
        }),
      failed: (live, error) => {
        log.error(
          { supervisorId: live.id, err: error },
          'supervisor failed; other supervisors continue',
        );
        this.observer.changed(live);
      },
    };
  }

  /** From now on only explicit captures are written (the host is stopping). */
  stopObserving(): void {
    this.#observing = false;
  }

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): LiveSupervisor | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  values(): IterableIterator<LiveSupervisor> {
    return this.#byId.values();
  }

  /** The ids of those not finished: they still run here. */
  runningIds(): string[] {
    return [...this.#byId.values()].filter((l) => !l.isFinished()).map((l) => l.id);
  }

  /** Puts it in service: its captures are written from now on. */
  admit(live: LiveSupervisor): void {
    this.#byId.set(live.id, live);
  }

  /** Takes it out of service (its actor is the caller's to stop). */
  remove(id: string): LiveSupervisor | undefined {
    const live = this.#byId.get(id);
    this.#byId.delete(id);
    return live;
  }

  /** Takes every one out of service. */
  clear(): LiveSupervisor[] {
    const all = [...this.#byId.values()];
    this.#byId.clear();
    return all;
  }

  /**
   * Queues its write if it changed; returns the version it will have. A supervisor no
   * longer in service is not written.
   */
  capture(live: LiveSupervisor): number {
    if (this.#byId.get(live.id) !== live) return live.version;
    live.touch();
    const request = live.capture();
    if (request) this.#writer.enqueue(request);
    return live.version;
  }
}
