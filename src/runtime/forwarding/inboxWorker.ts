// The owner's side of forwarded calls: the calls written for supervisors of the slices this
// node acts for are executed against its host, and each outcome is written after the call's
// own commit. A NOTIFY wakes it; it polls as well, so no call waits on a lost notification.
import { isStewardError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import {
  CALLS_CHANNEL,
  type ForwardedCallStore,
  type PendingCall,
} from '../../persistence/forwardedCalls.ts';
import type { SupervisorHost } from '../hostApi.ts';
import type { Listen } from './callForwarder.ts';
import { execute, ForwardedCall, outcomeOf } from './forwardedCall.ts';
import type { KeyedLine } from './keyedLine.ts';
import { oneAtATime } from './oneAtATime.ts';

/** Options of the owner's side. */
export interface InboxWorkerOptions {
  store: ForwardedCallStore;
  nodeId: string;
  /** The host that owns the supervisors (not one that forwards). */
  host: SupervisorHost;
  /** Where this node's keyed commands wait for each other (shared with its own calls). */
  line?: KeyedLine;
  /** The slices whose calls this node executes now. */
  slices: () => readonly number[];
  listen: Listen;
  /** How often the inbox is read without a NOTIFY; default 500 ms. */
  pollMs?: number;
  /** How long a done call is kept for a caller that went away; default 10 minutes. */
  keepDoneMs?: number;
  log: Logger;
}

/**
 * Errors after which a call is left in the inbox, not answered: nothing was applied (or it
 * is in doubt and a repeat is recognised), and the owner of the slice, this node later or
 * another, executes it again.
 */
const LEFT_FOR_LATER = new Set([
  'ERR_SUPERVISOR_MOVED',
  'ERR_DATABASE_UNAVAILABLE',
  'ERR_COMMIT_IN_DOUBT',
  'ERR_RUNTIME_STOPPED',
  'ERR_NO_SLICES',
]);

const PAGE = 256;

/** Executes the calls other nodes forwarded to this one. */
export class InboxWorker {
  readonly #options: InboxWorkerOptions;
  /** Calls executing here now: a second read of the inbox must not start them again. */
  readonly #running = new Set<number>();
  #timers: NodeJS.Timeout[] = [];
  #unlisten: (() => Promise<void>) | undefined;
  /** Reads the inbox and starts every call found that is not running yet. */
  readonly drain = oneAtATime(
    () => (this.#stopped ? Promise.resolve() : this.#drainOnce()),
    (error) => this.#options.log.warn({ err: error }, 'could not read the forwarded calls'),
  );
  #stopped = false;
  /** Calls served for other nodes, and how they ended. */
  readonly counters = { served: 0, refused: 0, deferred: 0 };

  constructor(options: InboxWorkerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { listen, slices } = this.#options;
    this.#unlisten = await listen(CALLS_CHANNEL, (payload) => {
      if (slices().includes(Number(payload))) this.drain();
    });
    const poll = setInterval(() => this.drain(), this.#options.pollMs ?? 500);
    const sweep = setInterval(() => void this.#sweep(), 60_000);
    for (const timer of [poll, sweep]) timer.unref();
    this.#timers = [poll, sweep];
    this.drain();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#unlisten?.().catch(() => {});
  }

  async #drainOnce(): Promise<boolean> {
    const { store, nodeId, slices } = this.#options;
    const calls = await store.claimPending(slices(), nodeId, [...this.#running], PAGE);
    for (const call of calls) {
      this.#running.add(call.id);
      void this.#serve(call).finally(() => this.#running.delete(call.id));
    }
    return calls.length === PAGE;
  }

  async #serve(call: PendingCall): Promise<void> {
    const { store, log } = this.#options;
    try {
      const settled = await this.#run(call).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      if (
        'error' in settled &&
        isStewardError(settled.error) &&
        LEFT_FOR_LATER.has(settled.error.code)
      ) {
        this.counters.deferred++;
        return;
      }
      if ('error' in settled) this.counters.refused++;
      else this.counters.served++;
      await store.complete(call.id, outcomeOf(settled));
    } catch (error) {
      // Left in the inbox: read again, its repeat is recognised (answers and keyed commands).
      log.warn(
        { err: error, forwardedCall: call.id, supervisorId: call.supervisorId },
        'a forwarded call is left for later',
      );
    }
  }

  /**
   * Executes the call in its key's line: a keyed command the journal holds already (its
   * first owner committed it and died before the outcome, or a repeat came through another
   * node) is not applied again.
   */
  async #run(call: PendingCall): Promise<unknown> {
    const { host, line } = this.#options;
    const parsed = ForwardedCall.safeParse(call.call);
    const run = () => execute(host, call.supervisorId, call.call);
    if (!parsed.success || !line) return run();
    return line.run(call.supervisorId, parsed.data, run);
  }

  async #sweep(): Promise<void> {
    try {
      await this.#options.store.sweep(this.#options.keepDoneMs ?? 600_000);
    } catch (error) {
      this.#options.log.warn({ err: error }, 'could not sweep the forwarded calls done');
    }
  }
}
