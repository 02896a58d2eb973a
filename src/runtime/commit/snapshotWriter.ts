import { StewardError } from '../../errors.ts';
import { type Logger, silentLogger } from '../../logger.ts';
import { sqlState } from '../../persistence/database.ts';
import type { NewCheckpoint } from '../../persistence/journalRepository.ts';
import { moved, notDurable, staleVersion } from './writeErrors.ts';
import type {
  SnapshotWriter,
  SnapshotWriterOptions,
  WriteRequest,
  WriterStats,
} from './writerApi.ts';

export type * from './writerApi.ts';

interface Waiter {
  version: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

// SQLSTATE classes 22 (data exception) and 23 (integrity violation): retrying the same row
// cannot help, unlike a lost connection.
function isDataError(error: unknown): boolean {
  return /^2[23]/.test(sqlState(error) ?? '');
}

function merge(older: WriteRequest, newer: WriteRequest): WriteRequest {
  // A task that changed twice is written as it stands in the newer snapshot.
  const tasks = new Map([...(older.tasks ?? []), ...(newer.tasks ?? [])].map((t) => [t.id, t]));
  return {
    write: newer.write.version >= older.write.version ? newer.write : older.write,
    events: [...older.events, ...newer.events],
    checkpoint: older.checkpoint || newer.checkpoint,
    tasks: [...tasks.values()],
  };
}

/**
 * Creates the snapshot writer. One write per supervisor is in flight at a time; whatever
 * arrives meanwhile is coalesced into its next write; queued writes of many supervisors
 * go out together in one transaction.
 *
 * @example
 * const writer = createSnapshotWriter({ store, onCommitted: (writes) => publish(writes) });
 * writer.enqueue({ write, events: [], checkpoint: false });
 * await writer.whenDurable(write.id, write.version);
 */
export function createSnapshotWriter(options: SnapshotWriterOptions): SnapshotWriter {
  return new GroupCommitWriter(options);
}

function toCheckpoint(request: WriteRequest): NewCheckpoint {
  const { write } = request;
  return {
    supervisorId: write.id,
    version: write.version,
    machineVersion: write.machineVersion,
    phase: write.phase,
    snapshot: write.snapshot,
    timers: write.timers,
  };
}

type CommitResult = Awaited<ReturnType<SnapshotWriterOptions['store']['commit']>>;

class GroupCommitWriter implements SnapshotWriter {
  readonly #options: SnapshotWriterOptions;
  readonly #log: Logger;
  readonly #maxBatch: number;
  readonly #maxConcurrent: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;

  readonly #queued = new Map<string, WriteRequest>();
  readonly #inFlight = new Set<string>();
  readonly #committed = new Map<string, number>();
  readonly #waiters = new Map<string, Waiter[]>();
  #flushWaiters: Array<() => void> = [];
  #batchesRunning = 0;
  #drainScheduled = false;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** After a data error, one supervisor per batch until the bad row is found. */
  #isolateRemaining = 0;
  #closed = false;
  #batchesCommitted = 0;
  #rowsCommitted = 0;
  #lastCommitAt: number | undefined;
  #failingSince: number | undefined;
  /** Bumped by `abandon()`: a batch of an older generation settles into nothing. */
  #generation = 0;
  /** When each batch in flight was sent, by a sequence number. */
  readonly #batchesSentAt = new Map<number, number>();
  #batchSeq = 0;

  constructor(options: SnapshotWriterOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxConcurrent = options.maxConcurrentBatches ?? 2;
    this.#retryInitialMs = options.retryInitialMs ?? 50;
    this.#retryMaxMs = options.retryMaxMs ?? 5_000;
  }

  enqueue(request: WriteRequest): void {
    if (this.#closed) {
      throw new StewardError('ERR_RUNTIME_STOPPED', 'the snapshot writer is closed');
    }
    const id = request.write.id;
    const waiting = this.#queued.get(id);
    this.#queued.set(id, waiting ? merge(waiting, request) : request);
    this.#scheduleDrain();
  }

  whenDurable(supervisorId: string, version: number): Promise<void> {
    if ((this.#committed.get(supervisorId) ?? 0) >= version) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const list = this.#waiters.get(supervisorId) ?? [];
      list.push({ version, resolve, reject });
      this.#waiters.set(supervisorId, list);
    });
  }

  committedVersion(supervisorId: string): number {
    return this.#committed.get(supervisorId) ?? 0;
  }

  flush(): Promise<void> {
    if (this.#queued.size === 0 && this.#inFlight.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#flushWaiters.push(resolve);
      this.#scheduleDrain();
    });
  }

  forget(supervisorId: string): void {
    this.#committed.delete(supervisorId);
  }

  discard(which: (supervisorId: string) => boolean): void {
    for (const id of [...this.#queued.keys()]) {
      if (this.#inFlight.has(id) || !which(id)) continue;
      this.#queued.delete(id);
      this.#settleWaiters(id, 0, moved(id));
    }
    this.#checkIdle();
  }

  async close(timeoutMs?: number): Promise<{ unflushed: number }> {
    if (this.#closed) return { unflushed: 0 };
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.flush().then(() => 'flushed' as const), gaveUp]);
    clearTimeout(timer);
    this.#closed = true;
    this.#stopRetrying();
    const unflushed = new Set([...this.#queued.keys(), ...this.#inFlight]).size;
    return { unflushed: outcome === 'flushed' ? 0 : unflushed };
  }

  abandon(): void {
    this.#generation++;
    const unavailable = new StewardError(
      'ERR_DATABASE_UNAVAILABLE',
      'the runtime lost its database before this change was sent: it was not applied; send it again once the runtime is back',
    );
    for (const id of this.#queued.keys()) {
      if (!this.#inFlight.has(id)) this.#settleWaiters(id, 0, unavailable);
    }
    for (const id of this.#inFlight) {
      this.#settleWaiters(
        id,
        0,
        new StewardError(
          'ERR_COMMIT_IN_DOUBT',
          `supervisor ${id}: the runtime lost its database while this change was being committed; it may have committed: send it again to learn`,
          { supervisorId: id },
        ),
      );
    }
    for (const id of [...this.#waiters.keys()]) this.#settleWaiters(id, 0, unavailable);
    this.#queued.clear();
    this.#inFlight.clear();
    this.#committed.clear();
    this.#batchesSentAt.clear();
    this.#batchesRunning = 0;
    this.#failures = 0;
    this.#failingSince = undefined;
    this.#isolateRemaining = 0;
    this.#stopRetrying();
    const done = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const resolve of done) resolve();
  }

  stats(): WriterStats {
    const sent = this.#batchesSentAt;
    return {
      queued: this.#queued.size,
      inFlight: this.#inFlight.size,
      batchesCommitted: this.#batchesCommitted,
      rowsCommitted: this.#rowsCommitted,
      lastCommitAt: this.#lastCommitAt,
      failingSince: this.#failingSince,
      oldestInFlightSince: sent.size > 0 ? Math.min(...sent.values()) : undefined,
    };
  }

  #stopRetrying(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #settleWaiters(id: string, version: number, error?: Error): void {
    const list = this.#waiters.get(id);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const waiter of list) {
      if (error) waiter.reject(error);
      else if (waiter.version <= version) waiter.resolve();
      else keep.push(waiter);
    }
    if (keep.length > 0) this.#waiters.set(id, keep);
    else this.#waiters.delete(id);
  }

  #checkIdle(): void {
    if (this.#queued.size === 0 && this.#inFlight.size === 0 && this.#flushWaiters.length > 0) {
      const done = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const resolve of done) resolve();
    }
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#retryTimer) return;
    this.#drainScheduled = true;
    // setImmediate, not a microtask: every send of the current tick joins this batch.
    setImmediate(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #takeBatch(): WriteRequest[] {
    // Share the queue among the free transaction slots: two half batches commit side by
    // side (PostgreSQL flushes their WAL together), where one full batch would leave the
    // other slot idle and make every write wait for a whole cycle.
    const free = Math.max(1, this.#maxConcurrent - this.#batchesRunning);
    const share = Math.ceil(this.#queued.size / free);
    const limit = this.#isolateRemaining > 0 ? 1 : Math.min(this.#maxBatch, share);
    const batch: WriteRequest[] = [];
    for (const [id, request] of this.#queued) {
      if (this.#inFlight.has(id)) continue;
      this.#queued.delete(id);
      this.#inFlight.add(id);
      batch.push(request);
      if (batch.length >= limit) break;
    }
    return batch;
  }

  #drain(): void {
    while (this.#batchesRunning < this.#maxConcurrent && !this.#retryTimer) {
      const batch = this.#takeBatch();
      if (batch.length === 0) break;
      this.#batchesRunning++;
      const mine = this.#generation;
      const seq = ++this.#batchSeq;
      this.#batchesSentAt.set(seq, Date.now());
      void this.#runBatch(batch, mine).finally(() => {
        this.#batchesSentAt.delete(seq);
        if (mine !== this.#generation) return;
        this.#batchesRunning--;
        this.#checkIdle();
        if (this.#queued.size > 0) this.#scheduleDrain();
      });
    }
  }

  async #runBatch(batch: WriteRequest[], mine: number): Promise<void> {
    try {
      const started = performance.now();
      const states = batch.map((r) => r.write);
      const fence = this.#options.fence?.(states.map((s) => s.id));
      const result = await this.#options.store.commit({
        states,
        events: batch.flatMap((r) => r.events),
        checkpoints: batch.filter((r) => r.checkpoint).map(toCheckpoint),
        tasks: batch.flatMap((r) => r.tasks ?? []),
        ...(fence ? { fence } : {}),
      });
      // Abandoned meanwhile: the supervisors it covered are gone from memory, and their
      // callers were told it is in doubt. Whatever it did, restoring reads it back.
      if (mine !== this.#generation) return;
      this.#options.onBatch?.({ rows: batch.length, ms: performance.now() - started });
      this.#committedBatch(batch, result);
    } catch (error) {
      if (mine !== this.#generation) return;
      for (const request of batch) this.#inFlight.delete(request.write.id);
      if (isDataError(error) && batch.length === 1) {
        this.#rejectForever(batch[0] as WriteRequest, error as Error);
        return;
      }
      if (isDataError(error)) this.#isolateRemaining = batch.length;
      this.#requeue(batch);
      this.#backOff(error, batch.length);
    }
  }

  #committedBatch(batch: WriteRequest[], result: CommitResult): void {
    this.#failures = 0;
    this.#failingSince = undefined;
    this.#lastCommitAt = Date.now();
    if (this.#isolateRemaining > 0) this.#isolateRemaining -= batch.length;
    this.#batchesCommitted++;
    this.#rowsCommitted += result.saved.length;
    for (const request of batch) this.#inFlight.delete(request.write.id);
    const versions = new Map(batch.map((r) => [r.write.id, r.write.version]));
    const stale = new Set<string>();
    for (const { id, storedVersion } of result.stale) {
      // The same version already stored: an earlier attempt committed and lost its reply.
      if (storedVersion === versions.get(id)) {
        this.#log.info(
          { supervisorId: id, version: storedVersion },
          'in-doubt commit found durable',
        );
        continue;
      }
      stale.add(id);
      const error = staleVersion(id, storedVersion, versions.get(id));
      this.#log.error({ supervisorId: id }, error.message);
      this.#settleWaiters(id, 0, error);
    }
    for (const id of result.fenced) {
      stale.add(id);
      this.#settleWaiters(id, 0, moved(id));
    }
    if (result.fenced.length > 0) {
      this.#log.warn({ supervisorIds: result.fenced }, 'writes refused: another node owns them');
      this.#options.onFenced?.(result.fenced);
    }
    const durable = batch.filter((r) => !stale.has(r.write.id));
    for (const { write } of durable) {
      const before = this.#committed.get(write.id) ?? 0;
      this.#committed.set(write.id, Math.max(before, write.version));
      this.#settleWaiters(write.id, write.version);
    }
    if (durable.length > 0) {
      this.#options.onCommitted?.(
        durable.map((r) => ({ write: r.write, events: r.events, tasks: r.tasks ?? [] })),
      );
    }
  }

  #rejectForever(request: WriteRequest, error: Error): void {
    const id = request.write.id;
    if (this.#isolateRemaining > 0) this.#isolateRemaining--;
    this.#log.error(
      { supervisorId: id, version: request.write.version, err: error },
      'the database refused this supervisor row; it is not retried',
    );
    this.#settleWaiters(id, 0, notDurable(id, error));
    this.#options.onRejected?.(id, error);
  }

  #requeue(batch: WriteRequest[]): void {
    for (const request of batch) {
      const newer = this.#queued.get(request.write.id);
      // Re-insert ahead of anything queued since: the older entries go first.
      this.#queued.set(request.write.id, newer ? merge(request, newer) : request);
    }
  }

  #backOff(error: unknown, rows: number): void {
    this.#failures++;
    this.#failingSince ??= Date.now();
    const delay = Math.min(this.#retryMaxMs, this.#retryInitialMs * 2 ** (this.#failures - 1));
    const jittered = Math.round(delay / 2 + Math.random() * (delay / 2));
    this.#log.warn(
      { err: error, failures: this.#failures, retryInMs: jittered, rows },
      'snapshot write failed; retrying',
    );
    if (this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#drain();
    }, jittered);
  }
}
