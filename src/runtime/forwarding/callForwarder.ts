// The caller's side of a forwarded call: the call is written to the inbox (committed, and a
// NOTIFY wakes the owner), then this node waits for the outcome the owner writes after the
// call's own commit. The owner's NOTIFY wakes the wait; polling finds the outcome too, so a
// lost notification only makes a call slower.
import { randomUUID } from 'node:crypto';
import { StewardError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { type ForwardedCallStore, OUTCOMES_CHANNEL } from '../../persistence/forwardedCalls.ts';
import { type ForwardedCall, settle } from './forwardedCall.ts';

/** Subscribes to a NOTIFY channel (the database's `listen`). */
export type Listen = (
  channel: string,
  handler: (payload: string) => void,
) => Promise<() => Promise<void>>;

/** Options of the caller's side. */
export interface CallForwarderOptions {
  store: ForwardedCallStore;
  nodeId: string;
  listen: Listen;
  /**
   * How long a call waits for its outcome. Past it, a call no owner began is withdrawn
   * (`ERR_SUPERVISOR_MOVED`: nothing applied) and one begun is `ERR_COMMIT_IN_DOUBT`. Long
   * enough for a failover: the lease TTL, the restore, and the commit.
   */
  timeoutMs: number;
  /** How often outcomes are looked for while calls wait; default 250 ms. */
  pollMs?: number;
  log: Logger;
}

interface Waiter {
  kind: ForwardedCall['kind'];
  deadline: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Forwards calls to the owners of their supervisors and waits for their outcomes. */
export class CallForwarder {
  readonly #options: CallForwarderOptions;
  readonly #waiting = new Map<number, Waiter>();
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #looking = false;
  /** Calls forwarded, and how they ended. */
  readonly counters = { forwarded: 0, applied: 0, refused: 0, failed: 0 };

  constructor(options: CallForwarderOptions) {
    this.#options = options;
  }

  /** Listens for outcomes and starts polling for them. */
  async start(): Promise<void> {
    this.#unlisten = await this.#options.listen(OUTCOMES_CHANNEL, (payload) => {
      if (this.#waiting.has(Number(payload))) void this.#lookUp();
    });
    this.#timer = setInterval(() => void this.#lookUp(), this.#options.pollMs ?? 250);
    this.#timer.unref();
  }

  /** Stops listening; calls still waiting fail as in doubt. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#unlisten?.().catch(() => {});
    for (const [id, waiter] of this.#waiting) waiter.reject(inDoubt(id, 'this node stopped'));
    this.#waiting.clear();
  }

  /** How many calls wait for their outcome now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * Sends a call to the owner of `supervisorId` and resolves with its result once the
   * owner committed it, or rejects with the owner's refusal. A command without an
   * idempotency key is given one, so that an owner that dies after its commit and before
   * writing the outcome is not followed by one that applies it again.
   */
  async forward<T>(supervisorId: string, call: ForwardedCall): Promise<T> {
    const keyed = withKey(call);
    let id: number;
    try {
      id = await this.#options.store.insert(supervisorId, keyed, this.#options.nodeId);
    } catch (error) {
      this.counters.failed++;
      throw new StewardError(
        'ERR_COMMIT_IN_DOUBT',
        `could not hand the call for supervisor ${supervisorId} to its owner: ${message(error)}; it may still be applied`,
        { supervisorId },
        { cause: error },
      );
    }
    this.counters.forwarded++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, {
        kind: call.kind,
        deadline: Date.now() + this.#options.timeoutMs,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
  }

  /** Settles the waits whose outcome is in, and ends those past their deadline. */
  async #lookUp(): Promise<void> {
    if (this.#looking || this.#waiting.size === 0) return;
    this.#looking = true;
    try {
      const { store } = this.#options;
      const outcomes = await store.takeOutcomes([...this.#waiting.keys()]);
      for (const [id, outcome] of outcomes) this.#settle(id, outcome);
      const now = Date.now();
      for (const [id, waiter] of this.#waiting) {
        if (waiter.deadline <= now) await this.#giveUp(id, waiter);
      }
    } catch (error) {
      // The database is away: the next round tries again, and deadlines still end waits.
      this.#options.log.warn({ err: error }, 'could not read the outcomes of forwarded calls');
      this.#failPastDeadline();
    } finally {
      this.#looking = false;
    }
  }

  #settle(id: number, outcome: unknown): void {
    const waiter = this.#waiting.get(id);
    if (!waiter) return;
    this.#waiting.delete(id);
    try {
      waiter.resolve(settle(outcome, waiter.kind));
      this.counters.applied++;
    } catch (error) {
      this.counters.refused++;
      waiter.reject(error);
    }
  }

  /** Withdraws a call no owner began (nothing applied); one begun is in doubt. */
  async #giveUp(id: number, waiter: Waiter): Promise<void> {
    this.#waiting.delete(id);
    this.counters.failed++;
    const withdrawn = await this.#options.store.withdraw(id).catch(() => false);
    if (withdrawn) {
      waiter.reject(
        new StewardError(
          'ERR_SUPERVISOR_MOVED',
          `no node took the call within ${this.#options.timeoutMs} ms (the supervisor's slice is between owners); nothing was applied: send it again`,
          { forwardedCall: id },
        ),
      );
    } else {
      waiter.reject(
        inDoubt(id, `its owner began it but gave no outcome within ${this.#options.timeoutMs} ms`),
      );
    }
  }

  #failPastDeadline(): void {
    const now = Date.now();
    for (const [id, waiter] of this.#waiting) {
      if (waiter.deadline > now) continue;
      this.#waiting.delete(id);
      this.counters.failed++;
      waiter.reject(inDoubt(id, 'the database could not be reached to learn its outcome'));
    }
  }
}

/** The call with an idempotency key of its own when it is a command that has none. */
function withKey(call: ForwardedCall): ForwardedCall {
  if (call.kind === 'answer' || call.kind === 'restore' || call.options.idempotency) return call;
  const idempotency = { key: `forwarded:${randomUUID()}`, requestHash: 'forwarded' };
  return { ...call, options: { ...call.options, idempotency } } as ForwardedCall;
}

function inDoubt(id: number, why: string): StewardError {
  return new StewardError(
    'ERR_COMMIT_IN_DOUBT',
    `a call forwarded to the supervisor's owner has no outcome yet (${why}); it may still be applied`,
    { forwardedCall: id },
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
