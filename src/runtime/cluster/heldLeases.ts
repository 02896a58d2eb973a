import type { SliceLease } from '../../model/slices.ts';
import { setTimeoutAfterIo } from '../../timers.ts';

/**
 * The slices a node holds, each with its epoch and its local deadline (monotonic ms): the
 * time by which the node stops acting for it, earlier than the lease's expiry in the
 * database. One timer, kept at the earliest deadline, hands the overdue slices to
 * `onOverdue` after removing them; it fires after the I/O already arrived is read, so a
 * renewal reply waiting in the socket moves a deadline before the timer decides.
 *
 * @example
 * const held = new HeldLeases(() => performance.now(), (slices) => lose(slices, 'deadline'));
 * held.hold(7, 3, sentAt + ttl - margin);
 */
export class HeldLeases {
  readonly #leases = new Map<number, { epoch: number; deadline: number }>();
  readonly #now: () => number;
  readonly #onOverdue: (slices: number[]) => void;
  #cancelTimer: (() => void) | undefined;
  #closed = false;

  constructor(now: () => number, onOverdue: (slices: number[]) => void) {
    this.#now = now;
    this.#onOverdue = onOverdue;
  }

  get size(): number {
    return this.#leases.size;
  }

  epochOf(slice: number): number | undefined {
    return this.#leases.get(slice)?.epoch;
  }

  /**
   * Held and not past its deadline now: read at every call, so that a node waking from a
   * pause refuses calls before its timer has had a turn to lose the slice.
   */
  has(slice: number): boolean {
    const lease = this.#leases.get(slice);
    return lease !== undefined && lease.deadline > this.#now();
  }

  /** The slices held, lowest first, with their epochs. */
  list(): SliceLease[] {
    return [...this.#leases]
      .map(([slice, { epoch }]) => ({ slice, epoch }))
      .sort((a, b) => a.slice - b.slice);
  }

  /** The slices held, highest first: those given back first. */
  highest(count: number): number[] {
    return [...this.#leases.keys()].sort((a, b) => b - a).slice(0, count);
  }

  /** Holds a slice taken, until `deadline`. */
  hold(slice: number, epoch: number, deadline: number): void {
    this.#leases.set(slice, { epoch, deadline });
    this.#arm();
  }

  /** Moves the deadline of a slice still held under `epoch`; false if it is not. */
  extend(slice: number, epoch: number, deadline: number): boolean {
    const lease = this.#leases.get(slice);
    if (lease?.epoch !== epoch) return false;
    lease.deadline = deadline;
    this.#arm();
    return true;
  }

  /** Stops holding the slices (lost); those not held are ignored. */
  drop(slices: readonly number[]): void {
    for (const slice of slices) this.#leases.delete(slice);
    this.#arm();
  }

  /** Stops holding a slice if it is still held under `epoch` (given back). */
  release(slice: number, epoch: number): void {
    if (this.#leases.get(slice)?.epoch === epoch) this.#leases.delete(slice);
    this.#arm();
  }

  /** No timer from now on (the keeper stopped); what is held stays listed. */
  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
  }

  #arm(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#closed || this.#leases.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const { deadline } of this.#leases.values()) earliest = Math.min(earliest, deadline);
    this.#cancelTimer = setTimeoutAfterIo(
      () => {
        const now = this.#now();
        const due = [...this.#leases].filter(([, l]) => l.deadline <= now).map(([s]) => s);
        for (const slice of due) this.#leases.delete(slice);
        this.#arm();
        if (due.length > 0) this.#onOverdue(due);
      },
      Math.max(0, earliest - this.#now()),
    );
  }
}
