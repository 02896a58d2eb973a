import type { Requester } from '../model/requester.ts';
import type { StateValidationResult } from '../model/restoration.ts';
import type { LifecycleState, SupervisorState, SupervisorWrite } from '../model/supervisor.ts';
import type { Checkpoint, JournalEvent, TaskRecord, TaskRowWrite } from '../model/task.ts';
import type { Database, Queryable } from './database.ts';
import {
  countByState,
  countByStateValue,
  countPendingQuestions,
  type FleetFilter,
  getSupervisorsWithPendingQuestions,
  listSupervisors,
  type StateValueCount,
  type TimeInState,
  timeInState,
} from './fleetQueries.ts';
import {
  addReplyToKeyedEvent,
  checkpointRows,
  eventRows,
  insertCheckpointsSql,
  insertEventsSql,
  listCheckpoints,
  listEventsBefore,
  listEventsWithKey,
  type NewCheckpoint,
  type NewJournalEvent,
  recentEvents,
} from './journalRepository.ts';
import { claimForRetry } from './retentionRepository.ts';
import { sliceOfIdSql } from './sliceLeases.ts';
import {
  countDeferredSupervisors,
  type DeferredSupervisor,
  getSupervisor,
  getSupervisorStateForRestoration,
  listDeferredSupervisors,
  listTimersDue,
  markSupervisorRestored,
  type RestoreMark,
  type RestoreRequest,
  stateRows,
  type TimerDue,
  updateSupervisorHeartbeatState,
  upsertStatesSql,
} from './supervisorRepository.ts';
import {
  listTasks,
  listTasksOf,
  recordTaskOutcome,
  repairTaskRows,
  type TaskOutcome,
  taskRows,
  upsertTasksSql,
  validateSpawnedTasks,
} from './taskRepository.ts';

/** Everything one group commit writes: snapshots, the journal entries they caused, checkpoints. */
export interface CommitBatch {
  states: readonly SupervisorWrite[];
  events: readonly NewJournalEvent[];
  checkpoints: readonly NewCheckpoint[];
  /** Task rows as the written snapshots describe them. */
  tasks?: readonly TaskRowWrite[];
  /** Several nodes: written only under these leases of the node (see `CommitFence`). */
  fence?: CommitFence;
}

/**
 * The leases a node writes under: a row is written only if `nodeId` holds the row's slice
 * with the epoch given here, unexpired, at the commit (checked in the same statement).
 */
export interface CommitFence {
  nodeId: string;
  leases: ReadonlyArray<{ slice: number; epoch: number }>;
}

/** What a group commit did, per supervisor. */
export interface CommitResult {
  saved: string[];
  /**
   * Rows not written because the stored version was equal or newer, with that version.
   * Equal to the version sent means an earlier attempt of this very write committed (its
   * reply was lost with the connection): the write is durable.
   */
  stale: Array<{ id: string; storedVersion: number }>;
  /** Rows not written because the fence refused them (the node does not hold their slice). */
  fenced: string[];
}

/** A recorded answer to a question, found in the journal. */
export interface RecordedAnswer {
  version: number | null;
  value: unknown;
  /** Who answered, as the entry says; `null` for an entry that does not say. */
  answeredBy: string | null;
}

/**
 * What the runtime needs from the database, and nothing more: the runtime sees persistence
 * only through this interface.
 */
export interface SupervisorStore {
  /**
   * Writes a batch atomically (one statement): `saveSupervisorStateFull`. Journal entries and
   * checkpoints of a supervisor whose write was stale (an equal or newer version is stored)
   * are left out with it.
   */
  commit(batch: CommitBatch): Promise<CommitResult>;
  getSupervisor(id: string): Promise<SupervisorState | null>;
  /** A retry begins: retention passes it over from now (`claimForRetry`); false if it cannot. */
  claimForRetry(id: string): Promise<boolean>;
  /** A page of the fleet; with `hasPendingQuestions: true`, `getSupervisorsWithPendingQuestions`. */
  listSupervisors(filter?: FleetFilter): Promise<SupervisorState[]>;
  /** How many supervisors are in each lifecycle state (every state present, 0 if none). */
  countByState(): Promise<Record<LifecycleState, number>>;
  /** How many questions are pending across the fleet. */
  countPendingQuestions(): Promise<number>;
  /** How many supervisors of a machine (an owner's, when given) are in each state and value. */
  countByStateValue(machineId: string, owner?: string): Promise<StateValueCount[]>;
  /** The median time supervisors of a machine stayed in each state value (the journal's). */
  timeInState(machineId: string, owner?: string): Promise<TimeInState[]>;
  /** The journaled answer to a question of a supervisor, or `null`. */
  findAnswer(supervisorId: string, questionId: string): Promise<RecordedAnswer | null>;
  /** True when the journal says the question expired (`question_expired`). */
  findExpiry(supervisorId: string, questionId: string): Promise<boolean>;
  /** The heartbeat save point, `updateSupervisorHeartbeatState`: `last_heartbeat` only. */
  touchHeartbeats(ids: readonly string[]): Promise<number>;
  /** Records how a task run ended, before its supervisor is told. */
  recordTaskOutcome(outcome: TaskOutcome): Promise<boolean>;
  listTasks(supervisorId: string): Promise<TaskRecord[]>;
  /** The task rows of many supervisors in one read (a restored page). */
  listTasksOf(supervisorIds: readonly string[]): Promise<Map<string, TaskRecord[]>>;
  /** Task rows checked against the stored snapshot (see `validateSpawnedTasks`). */
  validateTasks(supervisorId: string): Promise<StateValidationResult>;
  /** Writes task rows as the snapshot describes them and cancels rows it does not know. */
  repairTasks(rows: readonly TaskRowWrite[], cancelIds: readonly string[]): Promise<void>;
  /** Counts restores and journals them, in one statement: `markSupervisorRestored`. */
  markRestored(restores: readonly RestoreRequest[]): Promise<RestoreMark[]>;
  /** Entries written with an idempotency key since `since`, oldest first (`listEventsWithKey`). */
  keyedEntries(key: string, since: Date): Promise<JournalEvent[]>;
  /** Keeps a reply with the entry of its key (`addReplyToKeyedEvent`). */
  keepReply(
    entry: { supervisorId: string; key: string; requestHash: string; by: Requester | null },
    reply: unknown,
  ): Promise<boolean>;
  /** The newest journal entries of each supervisor, oldest first (restored history). */
  recentHistory(
    supervisorIds: readonly string[],
    perSupervisor: number,
  ): Promise<Map<string, JournalEvent[]>>;
  /** A page of a supervisor's journal, newest first, before an entry id (`listEventsBefore`). */
  journalPage(
    supervisorId: string,
    page: { before?: number; limit: number },
  ): Promise<JournalEvent[]>;
  /** A supervisor's checkpoints, newest first. */
  listCheckpoints(supervisorId: string, limit?: number): Promise<Checkpoint[]>;
  /**
   * A page of the supervisors a restart must restore: `getSupervisorStateForRestoration`;
   * with `dueBefore`, only those that must run by then; with `slices`, only those slices'.
   */
  listRestorable(page: {
    afterId?: string;
    limit: number;
    dueBefore?: Date;
    slices?: readonly number[];
  }): Promise<SupervisorState[]>;
  /** A page of those a restart leaves for their first touch, with their questions. */
  listDeferred(page: {
    afterId?: string;
    limit: number;
    dueBefore: Date;
    slices?: readonly number[];
  }): Promise<DeferredSupervisor[]>;
  /** How many `listDeferred` would list in all. */
  countDeferred(dueBefore: Date, slices?: readonly number[]): Promise<number>;
  /** Unfinished supervisors with a timer due before `dueBefore`, soonest first, a page at a time. */
  listTimersDue(page: {
    dueBefore: Date;
    limit: number;
    after?: TimerDue;
    slices?: readonly number[];
  }): Promise<TimerDue[]>;
}

// The ids come as their own array: the stored versions are then an index lookup planned
// for any batch size (a join on the jsonb rows was estimated at 100 rows and planned as a
// scan of the table: bench/profile.md), and the big parameter is parsed once, by the
// upsert. `stored` is read before the upsert: the journal takes only entries newer than
// what was stored, and the caller learns the stored version of every row not written. The
// text is constant, so the statement is prepared once per connection: its parse, analysis
// and plan cost a one-row commit more than its execution (bench/profile.md).
//
// Fencing (several nodes): with a node id in $6, a row is written only if that node holds
// its slice (as supervisor_states.slice derives it from the id) under the epoch it sent ($7 slices, $8 epochs), with
// the lease not expired. The lease rows are read FOR KEY SHARE: a take (FOR UPDATE SKIP
// LOCKED, sliceLeases.ts) passes over a slice while a commit of it is under way, and a
// take that committed first is seen here (the locked row is re-checked), so a stale
// owner's write cannot land after it; a renewal does not wait. No node id: no fencing, and
// a statement of its own that neither reads nor locks the lease table.
const commitSql = (fenced: boolean) => `WITH incoming AS (
  SELECT unnest($5::uuid[]) AS id
), ${
  fenced
    ? `fence AS (
  SELECT l.slice FROM slice_leases l
  JOIN unnest($7::smallint[], $8::bigint[]) AS f (slice, epoch) ON f.slice = l.slice
  WHERE l.node_id = $6::text AND l.epoch = f.epoch AND l.expires_at > now()
  FOR KEY SHARE OF l
), allowed AS (
  SELECT id FROM incoming WHERE ${sliceOfIdSql('id')} IN (SELECT slice FROM fence)
)`
    : 'allowed AS (SELECT id FROM incoming)'
}, stored AS (
  SELECT s.id, s.version FROM supervisor_states s WHERE s.id = ANY ($5::uuid[])
), saved AS (${upsertStatesSql('$1', 'allowed')}),
journal AS (${insertEventsSql('$2', { onlyFor: 'saved', newerThan: 'stored' })}),
kept AS (${insertCheckpointsSql('$3', 'saved')}),
task_rows AS (${upsertTasksSql('$4', 'saved')})
SELECT i.id, i.id IN (SELECT id FROM saved) AS saved, stored.version AS stored_version,
       i.id IN (SELECT id FROM allowed) AS owned
FROM incoming i LEFT JOIN stored USING (id)`;
const COMMIT_SQL = commitSql(false);
const FENCED_COMMIT_SQL = commitSql(true);

/**
 * Full state save (the seed's `save_supervisor_state_full`) of many supervisors at once:
 * the group commit the snapshot writer makes. In one statement, so one round trip and
 * atomic without BEGIN/COMMIT: upserts every row with the columns derived from its
 * snapshot (an existing row only by a newer `version`), appends the journal entries,
 * keeps the checkpoints and writes the task rows of the rows it wrote.
 *
 * @example
 * const { saved, stale } = await saveSupervisorStateFull(db, {
 *   states: [write],
 *   events: [{ supervisorId: write.id, version: write.version, kind: 'question_asked' }],
 *   checkpoints: [],
 * });
 */
export async function saveSupervisorStateFull(
  db: Queryable,
  batch: CommitBatch,
): Promise<CommitResult> {
  if (batch.states.length === 0) return { saved: [], stale: [], fenced: [] };
  const { fence } = batch;
  const { rows } = await db.query<{
    id: string;
    saved: boolean;
    stored_version: string | null;
    owned: boolean;
  }>(
    fence ? FENCED_COMMIT_SQL : COMMIT_SQL,
    [
      stateRows(batch.states),
      eventRows(batch.events),
      checkpointRows(batch.checkpoints),
      taskRows(batch.tasks ?? []),
      batch.states.map((state) => state.id),
      ...(fence
        ? [fence.nodeId, fence.leases.map((l) => l.slice), fence.leases.map((l) => l.epoch)]
        : []),
    ],
    { prepared: true },
  );
  return {
    saved: rows.filter((r) => r.saved).map((r) => r.id),
    fenced: rows.filter((r) => !r.owned).map((r) => r.id),
    stale: rows
      .filter((r) => !r.saved && r.owned)
      .map((r) => ({ id: r.id, storedVersion: Number(r.stored_version) })),
  };
}

/** The store over a database. */
export function createSupervisorStore(db: Database): SupervisorStore {
  return {
    commit: (batch) => saveSupervisorStateFull(db, batch),
    getSupervisor: (id) => getSupervisor(db, id),
    claimForRetry: (id) => claimForRetry(db, id),
    // The fleet's pending questions (GET /questions, questions.subscribe) by their seed name.
    listSupervisors: (filter) =>
      filter?.hasPendingQuestions === true
        ? getSupervisorsWithPendingQuestions(db, filter)
        : listSupervisors(db, filter),
    countByState: () => countByState(db),
    countPendingQuestions: () => countPendingQuestions(db),
    countByStateValue: (machineId, owner) => countByStateValue(db, machineId, owner),
    timeInState: (machineId, owner) => timeInState(db, machineId, owner),
    async findAnswer(supervisorId, questionId) {
      const { rows } = await db.query<{
        version: string | number | null;
        payload: { value?: unknown; answeredBy?: unknown };
      }>(
        // The kind is spelled out, not a parameter: only then does the partial index
        // supervisor_events_answers_idx (WHERE kind = 'question_answered') serve it.
        `SELECT version, payload FROM supervisor_events
         WHERE supervisor_id = $1 AND kind = 'question_answered' AND payload->>'questionId' = $2
         ORDER BY id LIMIT 1`,
        [supervisorId, questionId],
      );
      const row = rows[0];
      if (!row) return null;
      return {
        version: row.version === null ? null : Number(row.version),
        value: row.payload.value,
        answeredBy: typeof row.payload.answeredBy === 'string' ? row.payload.answeredBy : null,
      };
    },
    async findExpiry(supervisorId, questionId) {
      // Asked only for a question neither pending nor answered: a rare read, which the
      // supervisor's index (supervisor_id, id) bounds to its own journal.
      const { rows } = await db.query(
        `SELECT 1 FROM supervisor_events
         WHERE supervisor_id = $1 AND kind = 'question_expired' AND payload->>'questionId' = $2
         LIMIT 1`,
        [supervisorId, questionId],
      );
      return rows.length > 0;
    },
    touchHeartbeats: (ids) => updateSupervisorHeartbeatState(db, ids),
    recordTaskOutcome: (outcome) => recordTaskOutcome(db, outcome),
    listTasks: (supervisorId) => listTasks(db, supervisorId),
    listTasksOf: (supervisorIds) => listTasksOf(db, supervisorIds),
    validateTasks: (supervisorId) => validateSpawnedTasks(db, supervisorId),
    repairTasks: (rows, cancelIds) => repairTaskRows(db, rows, cancelIds),
    markRestored: (restores) => markSupervisorRestored(db, restores),
    listRestorable: (page) => getSupervisorStateForRestoration(db, page),
    listDeferred: (page) => listDeferredSupervisors(db, page),
    countDeferred: (dueBefore, slices) => countDeferredSupervisors(db, dueBefore, slices),
    listTimersDue: (page) => listTimersDue(db, page),
    listCheckpoints: (supervisorId, limit) => listCheckpoints(db, supervisorId, limit),
    recentHistory: (ids, perSupervisor) => recentEvents(db, ids, perSupervisor),
    journalPage: (supervisorId, page) => listEventsBefore(db, supervisorId, page),
    keyedEntries: (key, since) => listEventsWithKey(db, key, since),
    keepReply: (entry, reply) => addReplyToKeyedEvent(db, entry, reply),
  };
}
