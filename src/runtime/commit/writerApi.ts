// What the snapshot writer takes, gives and promises: the types of snapshotWriter.ts.
import type { Logger } from '../../logger.ts';
import type { SupervisorWrite } from '../../model/supervisor.ts';
import type { TaskRowWrite } from '../../model/task.ts';
import type { NewJournalEvent } from '../../persistence/journalRepository.ts';
import type { CommitFence, SupervisorStore } from '../../persistence/supervisorStore.ts';

/** One supervisor's part of a write: its newest row, and what happened since the last one. */
export interface WriteRequest {
  write: SupervisorWrite;
  /** Journal entries caused by the snapshots this write covers, oldest first. */
  events: NewJournalEvent[];
  /** Keep this snapshot as a checkpoint (taken on phase change). */
  checkpoint: boolean;
  /** Task rows that changed with the snapshots this write covers. */
  tasks?: TaskRowWrite[];
}

/** A write that committed: what the committed-changes stream is derived from. */
export interface CommittedWrite {
  write: SupervisorWrite;
  events: readonly NewJournalEvent[];
  tasks: readonly TaskRowWrite[];
}

/** Options of the snapshot writer. */
export interface SnapshotWriterOptions {
  store: SupervisorStore;
  log?: Logger;
  /** Most supervisors in one statement and transaction. */
  maxBatch?: number;
  /** Transactions in flight at once; more overlap JavaScript work with database I/O. */
  maxConcurrentBatches?: number;
  /** First and longest wait between retries while the database fails. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Called after every commit, in commit order, with the writes it made durable. */
  onCommitted?: (writes: readonly CommittedWrite[]) => void;
  /** Called after every committed batch with its size and how long the commit took. */
  onBatch?: (stats: { rows: number; ms: number }) => void;
  /** Called for a supervisor whose write can never succeed (the database refuses the row). */
  onRejected?: (supervisorId: string, error: Error) => void;
  /**
   * Several nodes: the leases this node writes the given supervisors under, put in each
   * commit (the database refuses a row whose slice this node no longer holds).
   */
  fence?: (supervisorIds: readonly string[]) => CommitFence;
  /**
   * Called with the supervisors whose rows the fence refused: another node owns them now.
   * Their callers were told (`ERR_SUPERVISOR_MOVED`); nothing of them was written.
   */
  onFenced?: (supervisorIds: readonly string[]) => void;
}

/** Persists supervisor snapshots: ordered per supervisor, coalesced, group-committed. */
export interface SnapshotWriter {
  /**
   * Queues a supervisor's newest row. A row still queued is replaced by the newer one and
   * their journal entries are joined: only the newest snapshot is written, nothing is lost.
   */
  enqueue(request: WriteRequest): void;
  /** Resolves once `version` (or a newer one) of the supervisor has committed. */
  whenDurable(supervisorId: string, version: number): Promise<void>;
  /** The newest committed version of a supervisor this writer knows of, or 0. */
  committedVersion(supervisorId: string): number;
  /** Resolves when everything queued so far has committed. */
  flush(): Promise<void>;
  /** Drops what the writer remembers of a supervisor that left memory. */
  forget(supervisorId: string): void;
  /**
   * Several nodes: drops the queued writes of the supervisors `which` names (their slice
   * left this node); their callers get `ERR_SUPERVISOR_MOVED`, nothing of them is sent.
   * A write already in flight goes on: the fence decides it.
   */
  discard(which: (supervisorId: string) => boolean): void;
  /**
   * Stops taking writes once the queue is flushed; later enqueues throw. Idempotent. With
   * `timeoutMs`, gives up waiting after that long and resolves with how many supervisor
   * writes were not flushed (none of them was ever acknowledged).
   */
  close(timeoutMs?: number): Promise<{ unflushed: number }>;
  /**
   * Forgets everything after the database was lost: queued writes are dropped (their
   * callers get `ERR_DATABASE_UNAVAILABLE`: never sent, never applied), callers of writes in
   * flight get `ERR_COMMIT_IN_DOUBT`, and what those batches do later is ignored. The
   * writer takes writes again at once.
   */
  abandon(): void;
  /** Queued and in-flight supervisor writes, and how commits are going, for health. */
  stats(): WriterStats;
}

/** What the writer tells of itself. */
export interface WriterStats {
  queued: number;
  inFlight: number;
  batchesCommitted: number;
  rowsCommitted: number;
  /** When the last batch committed (epoch ms), or undefined. */
  lastCommitAt: number | undefined;
  /** Since when every batch has failed (epoch ms); undefined while commits go through. */
  failingSince: number | undefined;
  /** When the oldest batch still in flight was sent (epoch ms), or undefined. */
  oldestInFlightSince: number | undefined;
}
