// The host's public face: what a caller (the server, an embedder) can ask of it, and what
// it answers. The host itself is in supervisorHost.ts.

import type { InspectionEvent } from 'xstate';
import type { Logger } from '../logger.ts';
import type { MachineRegistry } from '../machines/registry.ts';
import type { CommandOptions } from '../model/requester.ts';
import type {
  AnswerGrant,
  LifecycleState,
  PendingQuestion,
  RestorationSource,
  SupervisorState,
} from '../model/supervisor.ts';
import type { Checkpoint, JournalEvent } from '../model/task.ts';
import type { FleetFilter, StateValueCount, TimeInState } from '../persistence/fleetQueries.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import type { SliceMembership } from './cluster/membership.ts';
import type { CommandName } from './commands.ts';
import type { ChangeListener } from './commit/committedChanges.ts';
import type { SnapshotWriterOptions } from './commit/snapshotWriter.ts';
import type { RestorationInfo } from './restore/restoration.ts';
import type { SliceDuties } from './sliceDuties.ts';

export type { CommandOptions } from '../model/requester.ts';

/** Options of the actor host. */
export interface SupervisorHostOptions {
  store: SupervisorStore;
  registry: MachineRegistry;
  log?: Logger;
  /**
   * How long a call waits for its commit before failing with `ERR_COMMIT_IN_DOUBT` (it may
   * still commit: the writer keeps trying). Every wait on a commit has this bound.
   */
  commitTimeoutMs?: number;
  /**
   * XState's inspection API, for an outside inspector such as `@statelyai/inspect`
   * (`inspect: createWebSocketInspector().inspect`): it sees every actor event and
   * snapshot of every hosted supervisor. An inspector that throws changes nothing.
   */
  inspect?: (event: InspectionEvent) => void;
  /** Interval of the heartbeat save point; 0 turns it off. */
  heartbeatIntervalMs?: number;
  /**
   * Drops a supervisor from memory once it has been idle this long (no call, no change,
   * nothing in flight, no task or invoked actor running); the next call, answer or due
   * timer brings it back from its stored row, without counting a restore. 0 or unset:
   * every supervisor stays in memory.
   */
  passivateAfterMs?: number;
  /**
   * Several nodes on one database: this node's leases. The host then acts only for the
   * supervisors of the slices it holds (`ERR_SUPERVISOR_MOVED` for the others), creates new
   * ones in them, writes under the leases' epochs (a row whose slice moved is refused by
   * the database and never acked), and `restoreAll` restores only held slices.
   */
  slices?: SliceMembership;
  /**
   * A restart (`restoreAll`) rebuilds only the supervisors that must run now: work in
   * flight (a task pending or running, an invoked actor alive) or a timer due within
   * `lazyRestoreLookaheadMs`. Every other unfinished one stays in its row until its first
   * touch (an answer, an event, a command, a restore) or a timer of its comes due, and is
   * restored then with the seed's steps and counted; its pending questions are asked again
   * from the row at the restart. Off (the default): every unfinished one is rebuilt.
   */
  lazyRestore?: boolean;
  /** How far ahead a due timer brings a deferred supervisor into memory; default 60 s. */
  lazyRestoreLookaheadMs?: number;
  writer?: Pick<
    SnapshotWriterOptions,
    'maxBatch' | 'maxConcurrentBatches' | 'retryInitialMs' | 'retryMaxMs' | 'onBatch'
  >;
}

/** What the host knows of a supervisor's last commit, from memory. */
export interface CommittedQuestions {
  owner: string | null;
  version: number;
  pendingQuestions: readonly PendingQuestion[];
}

/** The result of a call that changed a supervisor: the version that made it durable. */
export interface Committed {
  version: number;
}

/** Options of `spawn`: its id, its owner, and who asked (journaled with its first write). */
export interface SpawnOptions extends CommandOptions {
  id?: string;
  owner?: string | null;
}

/** Options of `retry`: why (journaled with who asked). */
export interface RetryOptions extends CommandOptions {
  reason?: string;
}

/** Who answers, and whether they may answer a given question. */
export interface AnswerOptions extends CommandOptions {
  /** Recorded in the journal with the answer. */
  answeredBy?: string | null;
  /**
   * Checked against the pending question as the supervisor holds it at that moment, so the
   * check and the answer cannot be told apart by a question asked in between; a refusal
   * is `ERR_FORBIDDEN` and changes nothing.
   */
  mayAnswer?: (question: PendingQuestion) => boolean;
  /**
   * The same check as data: which audiences the answerer speaks for. Unlike `mayAnswer`,
   * it travels with an answer forwarded to the node that owns the supervisor.
   */
  grant?: AnswerGrant;
}

/** The result of an answer: a repeat of the same value to the same question is a duplicate. */
export interface AnswerResult extends Committed {
  duplicate: boolean;
}

/** Hosts supervisors: runs their actors and persists every transition before acknowledging. */
export interface SupervisorHost {
  /**
   * Starts a supervisor of the newest registered version of a machine. The input is
   * checked against that version's `input` schema first (`ERR_INPUT_INVALID`, nothing
   * stored) and the machine receives the parsed value. Resolves once its first snapshot
   * has committed.
   */
  spawn(
    machineId: string,
    input: unknown,
    options?: SpawnOptions,
  ): Promise<{ id: string } & Committed>;
  /**
   * Sends an event. Resolves once the snapshot it produced has committed; an event the
   * supervisor has no transition for is refused with `ERR_EVENT_NOT_ACCEPTED`. Like every
   * command (`spawn`, `pause`, `resume`, `cancel`), it is journaled (a `command` entry, with
   * `options.by`) in the commit of the snapshot it produced.
   */
  send(id: string, event: unknown, options?: CommandOptions): Promise<Committed>;
  /**
   * Answers a pending question after validating the value against its answer kind.
   * Idempotent: answering a question again with the same value (JSON-equal) reports a
   * duplicate; with another value it is refused with `ERR_ALREADY_ANSWERED`, whose
   * `details.recorded` is the answer that stands. Neither changes anything.
   */
  answer(
    id: string,
    questionId: string,
    value: unknown,
    options?: AnswerOptions,
  ): Promise<AnswerResult>;
  /**
   * Journals a command that changes nothing else (a `command` entry, with `options.by` and
   * `options.idempotency`, and `details`), as a version of its own: a resume of a running
   * supervisor sent with an idempotency key, so that its repeat finds it and the trail
   * names who asked. Refused like `send` when the supervisor is not running here.
   *
   * @example
   * await host.recordCommand(id, 'resume', { by, idempotency }, { resumed: 'running' });
   */
  recordCommand(
    id: string,
    command: CommandName,
    options: CommandOptions,
    details?: Record<string, unknown>,
  ): Promise<Committed>;
  /** Sends `supervisor.pause` (see `send`). */
  pause(id: string, options?: CommandOptions): Promise<Committed>;
  /** Sends `supervisor.resume` (see `send`). */
  resume(id: string, options?: CommandOptions): Promise<Committed>;
  /** Sends `supervisor.cancel` with the reason (see `send`). */
  cancel(id: string, reason?: string, options?: CommandOptions): Promise<Committed>;
  /** A supervisor as stored; `ERR_SUPERVISOR_NOT_FOUND` when there is none. */
  get(id: string): Promise<SupervisorState>;
  /** Stored supervisors matching a filter (indexed queries). */
  list(filter?: FleetFilter): Promise<SupervisorState[]>;
  /** How many stored supervisors are in each lifecycle state. */
  countByState(): Promise<Record<LifecycleState, number>>;
  /** How many questions are pending across the stored fleet. */
  countPendingQuestions(): Promise<number>;
  /**
   * How many supervisors of a machine (an owner's, when given) are in each lifecycle state
   * and state value, as stored.
   */
  countByStateValue(machineId: string, owner?: string): Promise<StateValueCount[]>;
  /** The median time supervisors of a machine stayed in each state value, from the journal. */
  timeInState(machineId: string, owner?: string): Promise<TimeInState[]>;
  /** The newest journal entries of a supervisor, oldest first. */
  history(id: string, limit?: number): Promise<JournalEvent[]>;
  /**
   * A page of a supervisor's whole journal, newest first: the entries before the entry id
   * `before` (from the newest, without it), at most `limit`. Paging on with the last id
   * seen lists every entry exactly once.
   */
  journal(id: string, page: { before?: number; limit: number }): Promise<JournalEvent[]>;
  /**
   * The journal entries written with an idempotency key since `since`, oldest first, of
   * every supervisor and every principal that sent it: what a repeat of a request looks
   * up before it is executed (the HTTP API's `Idempotency-Key`).
   */
  keyedEntries(key: string, since: Date): Promise<JournalEvent[]>;
  /** A supervisor's kept checkpoints, newest first. */
  checkpoints(id: string, limit?: number): Promise<Checkpoint[]>;
  /**
   * Owner, version and pending questions of a hosted supervisor as last committed (never
   * a question that is not durable yet); `undefined` when it is not in memory.
   */
  committed(id: string): CommittedQuestions | undefined;
  /** Receives every committed change; returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
  /** The heartbeat save point now: touches `last_heartbeat` of every hosted supervisor. */
  heartbeat(): Promise<number>;
  /**
   * A hosted supervisor's persisted snapshot now (a copy) and the version of its last
   * capture: the committed row once nothing changed since (tests, tools).
   */
  local(id: string): { version: number; snapshot: unknown } | undefined;
  /** How many supervisors are in memory. */
  size(): number;
  /** How many supervisors are passivated: running here, but out of memory until needed. */
  passivated(): number;
  /** How many a lazy restart left in their rows and nothing has touched since (about). */
  deferred(): number;
  /**
   * Brings a stored supervisor back into memory: rebuilds its actor from the stored
   * snapshot, counts the restore (`restoration_count`, time, source), re-sends its pending
   * questions on the committed-changes stream, and picks up its tasks. The `restored`
   * entry names `options.by` when given.
   */
  restore(
    id: string,
    source?: RestorationSource,
    options?: CommandOptions,
  ): Promise<RestorationInfo>;
  /**
   * Puts a failed or cancelled supervisor back to work, like Step Functions' redrive or
   * Temporal's reset: from its newest checkpoint that validates and was not taken in a
   * final state, or afresh from its stored input when there is none. Journaled (`retried`,
   * with `options.reason` and `options.by`) with the snapshot it restarts from, counted
   * as a restore with source `manual`; its pending questions are asked again once that
   * commit is durable, when it resolves. A completed supervisor is refused with
   * `ERR_SUPERVISOR_TERMINATED`, one not finished (or being retried) with
   * `ERR_SUPERVISOR_NOT_FINISHED`; neither changes anything.
   *
   * @example
   * const info = await host.retry(id, { reason: 'the API key was fixed', by });
   * info.checkpointVersion; // the checkpoint it went back to, or null (afresh)
   */
  retry(id: string, options?: RetryOptions): Promise<RestorationInfo>;
  /**
   * Restores every stored supervisor that is not finished, page by page, logging progress;
   * with `lazyRestore`, only those that must run now (the rest are `deferred`).
   */
  restoreAll(
    source?: RestorationSource,
    slices?: readonly number[],
  ): Promise<{ restored: number; failed: number; deferred: number }>;
  /** Several nodes: what this node's slices mean to the host (undefined on a single node). */
  readonly slices: SliceDuties | undefined;
  /**
   * The database is lost (or the claim on it): drops every supervisor from memory without
   * writing (nothing acknowledged lives only there), stops their tasks, and refuses every
   * call with `ERR_DATABASE_UNAVAILABLE` until `resume()`. Callers waiting on a commit in
   * flight get `ERR_COMMIT_IN_DOUBT`. Idempotent.
   */
  databaseLost(): void;
  /**
   * Takes calls again after `databaseLost()`. Call `restoreAll()` first (it runs while calls
   * are still refused), so no call finds its supervisor missing.
   */
  databaseBack(): void;
  /** How commits are going, for readiness. */
  commitHealth(): CommitHealth;
  /**
   * Flushes every pending write, then stops the actors. Idempotent. With `timeoutMs`, stops
   * waiting for the flush after that long; resolves with how many supervisors had writes
   * left unflushed (never acknowledged, so nothing acknowledged is lost).
   */
  stop(options?: { timeoutMs?: number }): Promise<{ unflushed: number }>;
}

/** What readiness is judged on. */
export interface CommitHealth {
  /** True between `databaseLost()` and `databaseBack()`. */
  suspended: boolean;
  /** When a write last committed (epoch ms). */
  lastCommitAt: number | undefined;
  /** Since when every commit attempt has failed; undefined while commits go through. */
  failingSince: number | undefined;
  /** When the oldest commit still waiting for its reply was sent. */
  oldestInFlightSince: number | undefined;
  /** Supervisor writes queued and in flight. */
  pending: number;
}
