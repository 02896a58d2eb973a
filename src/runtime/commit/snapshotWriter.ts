import { StewardError } from '../../errors.ts';
import { silentLogger } from '../../logger.ts';
import { sqlState } from '../../persistence/database.ts';
import type { NewCheckpoint } from '../../persistence/journalRepository.ts';
import type { SnapshotWriter, SnapshotWriterOptions, WriteRequest } from './writerApi.ts';

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
  const log = options.log ?? silentLogger;
  const maxBatch = options.maxBatch ?? 500;
  const maxConcurrent = options.maxConcurrentBatches ?? 2;
  const retryInitialMs = options.retryInitialMs ?? 50;
  const retryMaxMs = options.retryMaxMs ?? 5_000;

  const queued = new Map<string, WriteRequest>();
  const inFlight = new Set<string>();
  const committed = new Map<string, number>();
  const waiters = new Map<string, Waiter[]>();
  let flushWaiters: Array<() => void> = [];
  let batchesRunning = 0;
  let drainScheduled = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  // After a data error, write one supervisor per batch until the bad row is found.
  let isolateRemaining = 0;
  let closed = false;
  let batchesCommitted = 0;
  let rowsCommitted = 0;
  let lastCommitAt: number | undefined;
  let failingSince: number | undefined;
  /** Bumped by `abandon()`: a batch of an older generation settles into nothing. */
  let generation = 0;
  /** When each batch in flight was sent, by a sequence number. */
  const batchesSentAt = new Map<number, number>();
  let batchSeq = 0;

  function settleWaiters(id: string, version: number, error?: Error): void {
    const list = waiters.get(id);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const waiter of list) {
      if (error) waiter.reject(error);
      else if (waiter.version <= version) waiter.resolve();
      else keep.push(waiter);
    }
    if (keep.length > 0) waiters.set(id, keep);
    else waiters.delete(id);
  }

  function checkIdle(): void {
    if (queued.size === 0 && inFlight.size === 0 && flushWaiters.length > 0) {
      const done = flushWaiters;
      flushWaiters = [];
      for (const resolve of done) resolve();
    }
  }

  function scheduleDrain(): void {
    if (drainScheduled || retryTimer) return;
    drainScheduled = true;
    // setImmediate, not a microtask: every send of the current tick joins this batch.
    setImmediate(() => {
      drainScheduled = false;
      drain();
    });
  }

  function takeBatch(): WriteRequest[] {
    // Share the queue among the free transaction slots: two half batches commit side by
    // side (PostgreSQL flushes their WAL together), where one full batch would leave the
    // other slot idle and make every write wait for a whole cycle.
    const free = Math.max(1, maxConcurrent - batchesRunning);
    const share = Math.ceil(queued.size / free);
    const limit = isolateRemaining > 0 ? 1 : Math.min(maxBatch, share);
    const batch: WriteRequest[] = [];
    for (const [id, request] of queued) {
      if (inFlight.has(id)) continue;
      queued.delete(id);
      inFlight.add(id);
      batch.push(request);
      if (batch.length >= limit) break;
    }
    return batch;
  }

  function drain(): void {
    while (batchesRunning < maxConcurrent && !retryTimer) {
      const batch = takeBatch();
      if (batch.length === 0) break;
      batchesRunning++;
      const mine = generation;
      const seq = ++batchSeq;
      batchesSentAt.set(seq, Date.now());
      void runBatch(batch, mine).finally(() => {
        batchesSentAt.delete(seq);
        if (mine !== generation) return;
        batchesRunning--;
        checkIdle();
        if (queued.size > 0) scheduleDrain();
      });
    }
  }

  async function runBatch(batch: WriteRequest[], mine: number): Promise<void> {
    try {
      const started = performance.now();
      const result = await options.store.commit({
        states: batch.map((r) => r.write),
        events: batch.flatMap((r) => r.events),
        checkpoints: batch.filter((r) => r.checkpoint).map(toCheckpoint),
        tasks: batch.flatMap((r) => r.tasks ?? []),
      });
      // Abandoned meanwhile: the supervisors it covered are gone from memory, and their
      // callers were told it is in doubt. Whatever it did, restoring reads it back.
      if (mine !== generation) return;
      options.onBatch?.({ rows: batch.length, ms: performance.now() - started });
      failures = 0;
      failingSince = undefined;
      lastCommitAt = Date.now();
      if (isolateRemaining > 0) isolateRemaining -= batch.length;
      batchesCommitted++;
      rowsCommitted += result.saved.length;
      for (const request of batch) inFlight.delete(request.write.id);
      const versions = new Map(batch.map((r) => [r.write.id, r.write.version]));
      const stale = new Set<string>();
      for (const { id, storedVersion } of result.stale) {
        // The same version already stored: an earlier attempt committed and lost its reply.
        if (storedVersion === versions.get(id)) {
          log.info({ supervisorId: id, version: storedVersion }, 'in-doubt commit found durable');
          continue;
        }
        stale.add(id);
        const error = new StewardError(
          'ERR_STALE_VERSION',
          `supervisor ${id}: the database holds version ${storedVersion}, newer than ${versions.get(id)}; this write was dropped`,
          { supervisorId: id, storedVersion },
        );
        log.error({ supervisorId: id }, error.message);
        settleWaiters(id, 0, error);
      }
      const durable = batch.filter((r) => !stale.has(r.write.id));
      for (const { write } of durable) {
        committed.set(write.id, Math.max(committed.get(write.id) ?? 0, write.version));
        settleWaiters(write.id, write.version);
      }
      if (durable.length > 0) {
        options.onCommitted?.(durable.map((r) => ({ ...r, tasks: r.tasks ?? [] })));
      }
    } catch (error) {
      if (mine !== generation) return;
      for (const request of batch) inFlight.delete(request.write.id);
      if (isDataError(error) && batch.length === 1) {
        rejectForever(batch[0] as WriteRequest, error as Error);
        return;
      }
      if (isDataError(error)) isolateRemaining = batch.length;
      requeue(batch);
      backOff(error, batch.length);
    }
  }

  function rejectForever(request: WriteRequest, error: Error): void {
    const id = request.write.id;
    if (isolateRemaining > 0) isolateRemaining--;
    log.error(
      { supervisorId: id, version: request.write.version, err: error },
      'the database refused this supervisor row; it is not retried',
    );
    const rejection = new StewardError(
      'ERR_NOT_DURABLE',
      `supervisor ${id}: the database refused its snapshot (${error.message})`,
      { supervisorId: id },
      { cause: error },
    );
    settleWaiters(id, 0, rejection);
    options.onRejected?.(id, error);
  }

  function requeue(batch: WriteRequest[]): void {
    for (const request of batch) {
      const newer = queued.get(request.write.id);
      // Re-insert ahead of anything queued since: the older entries go first.
      queued.set(request.write.id, newer ? merge(request, newer) : request);
    }
  }

  function backOff(error: unknown, rows: number): void {
    failures++;
    failingSince ??= Date.now();
    const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** (failures - 1));
    const jittered = Math.round(delay / 2 + Math.random() * (delay / 2));
    log.warn(
      { err: error, failures, retryInMs: jittered, rows },
      'snapshot write failed; retrying',
    );
    if (retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      drain();
    }, jittered);
  }

  function flush(): Promise<void> {
    if (queued.size === 0 && inFlight.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      flushWaiters.push(resolve);
      scheduleDrain();
    });
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

  return {
    enqueue(request) {
      if (closed) {
        throw new StewardError('ERR_RUNTIME_STOPPED', 'the snapshot writer is closed');
      }
      const id = request.write.id;
      const waiting = queued.get(id);
      queued.set(id, waiting ? merge(waiting, request) : request);
      scheduleDrain();
    },

    whenDurable(supervisorId, version) {
      if ((committed.get(supervisorId) ?? 0) >= version) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const list = waiters.get(supervisorId) ?? [];
        list.push({ version, resolve, reject });
        waiters.set(supervisorId, list);
      });
    },

    committedVersion: (supervisorId) => committed.get(supervisorId) ?? 0,

    flush,

    forget(supervisorId) {
      committed.delete(supervisorId);
    },

    async close(timeoutMs?: number) {
      if (closed) return { unflushed: 0 };
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'timeout'>((resolve) => {
        if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([flush().then(() => 'flushed' as const), gaveUp]);
      clearTimeout(timer);
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      return {
        unflushed: outcome === 'flushed' ? 0 : new Set([...queued.keys(), ...inFlight]).size,
      };
    },

    abandon() {
      generation++;
      const unavailable = new StewardError(
        'ERR_DATABASE_UNAVAILABLE',
        'the runtime lost its database before this change was sent: it was not applied; send it again once the runtime is back',
      );
      for (const id of queued.keys()) {
        if (!inFlight.has(id)) settleWaiters(id, 0, unavailable);
      }
      for (const id of inFlight) {
        settleWaiters(
          id,
          0,
          new StewardError(
            'ERR_COMMIT_IN_DOUBT',
            `supervisor ${id}: the runtime lost its database while this change was being committed; it may have committed: send it again to learn`,
            { supervisorId: id },
          ),
        );
      }
      for (const id of [...waiters.keys()]) settleWaiters(id, 0, unavailable);
      queued.clear();
      inFlight.clear();
      committed.clear();
      batchesSentAt.clear();
      batchesRunning = 0;
      failures = 0;
      failingSince = undefined;
      isolateRemaining = 0;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      const done = flushWaiters;
      flushWaiters = [];
      for (const resolve of done) resolve();
    },

    stats: () => ({
      queued: queued.size,
      inFlight: inFlight.size,
      batchesCommitted,
      rowsCommitted,
      lastCommitAt,
      failingSince,
      oldestInFlightSince: batchesSentAt.size > 0 ? Math.min(...batchesSentAt.values()) : undefined,
    }),
  };
}
