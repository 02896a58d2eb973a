import type { JournalKind } from '../model/journalKinds.ts';
import { type Idempotency, idempotencyFields, type Requester } from '../model/requester.ts';
import {
  PendingQuestion,
  type RestorationSource,
  type SupervisorState,
  type SupervisorWrite,
} from '../model/supervisor.ts';
import type { Queryable } from './database.ts';
import { serializeRows } from './rawJson.ts';
import { SUPERVISOR_COLUMNS, type SupervisorRow, toSupervisorState } from './supervisorRows.ts';

// Five of the seed's repository functions wrote a derived column on its own (detailed
// state, spawned task, pending question added / removed, phase). They have no counterpart:
// those columns are derived from the snapshot and written only with it, by the full save
// (`saveSupervisorStateFull` in supervisorStore.ts). docs/seed.md maps each.

/**
 * The upsert of any number of supervisor rows, read from a jsonb array parameter (see
 * `stateRows`); returns the ids it wrote. An existing row is replaced only by a newer
 * version. Machine id and owner are fixed at creation and never rewritten. With `onlyIds`
 * (a relation with an `id` column), only the rows it names are written.
 */
export function upsertStatesSql(param: string, onlyIds?: string): string {
  return `
  INSERT INTO supervisor_states AS s (
    id, machine_id, machine_version, owner, snapshot, input, xstate_version, timers, version,
    state, state_value, tags, current_activity, progress, phase, error_message,
    spawned_task_ids, pending_questions, next_timer_at, work_in_flight
  )
  SELECT id, machine_id, machine_version, owner, snapshot, input, xstate_version, timers, version,
         state, state_value, tags, current_activity, progress, phase, error_message,
         spawned_task_ids, pending_questions, next_timer_at, work_in_flight
  FROM jsonb_to_recordset(${param}::jsonb) AS r (
    id uuid, machine_id text, machine_version integer, owner text, snapshot jsonb, input jsonb,
    xstate_version text, timers jsonb, version bigint, state supervisor_state,
    state_value text, tags text[], current_activity text, progress smallint, phase text,
    error_message text, spawned_task_ids uuid[], pending_questions jsonb,
    next_timer_at timestamptz, work_in_flight boolean
  )
  ${onlyIds ? `WHERE r.id IN (SELECT id FROM ${onlyIds})` : ''}
  ON CONFLICT (id) DO UPDATE SET
    machine_version = excluded.machine_version,
    snapshot = excluded.snapshot,
    xstate_version = excluded.xstate_version,
    timers = excluded.timers,
    version = excluded.version,
    state_entered_at = CASE
      WHEN s.state IS DISTINCT FROM excluded.state OR s.state_value IS DISTINCT FROM excluded.state_value
      THEN now() ELSE s.state_entered_at END,
    state = excluded.state,
    state_value = excluded.state_value,
    tags = excluded.tags,
    current_activity = excluded.current_activity,
    progress = excluded.progress,
    phase = excluded.phase,
    error_message = excluded.error_message,
    spawned_task_ids = excluded.spawned_task_ids,
    pending_questions = excluded.pending_questions,
    next_timer_at = excluded.next_timer_at,
    work_in_flight = excluded.work_in_flight,
    updated_at = now()
  WHERE s.version < excluded.version
  RETURNING id`;
}

/** The parameter of `upsertStatesSql`: a snapshot held as RawJson is embedded verbatim. */
export function stateRows(writes: readonly SupervisorWrite[]): string {
  return serializeRows(
    writes,
    'snapshot',
    (w) => w.snapshot,
    (w) => ({
      id: w.id,
      machine_id: w.machineId,
      machine_version: w.machineVersion,
      owner: w.owner,
      input: w.input ?? null,
      xstate_version: w.xstateVersion,
      timers: w.timers,
      version: w.version,
      state: w.state,
      state_value: w.stateValue,
      tags: w.tags,
      current_activity: w.currentActivity,
      progress: w.progress,
      phase: w.phase,
      error_message: w.errorMessage,
      spawned_task_ids: w.spawnedTaskIds,
      pending_questions: w.pendingQuestions,
      next_timer_at: nextTimerAt(w.timers),
      work_in_flight: w.workInFlight ?? false,
    }),
  );
}

/** The deadline of the earliest stored timer, as ISO text, or null. */
function nextTimerAt(timers: readonly unknown[]): string | null {
  let due = Number.POSITIVE_INFINITY;
  for (const timer of timers) {
    const at = (timer as { dueAt?: unknown }).dueAt;
    if (typeof at === 'number' && at < due) due = at;
  }
  return Number.isFinite(due) ? new Date(due).toISOString() : null;
}

/** Loads one supervisor, or `null`. */
export async function getSupervisor(db: Queryable, id: string): Promise<SupervisorState | null> {
  const { rows } = await db.query<SupervisorRow>(
    `SELECT ${SUPERVISOR_COLUMNS} FROM supervisor_states WHERE id = $1`,
    [id],
  );
  return rows[0] ? toSupervisorState(rows[0]) : null;
}

/**
 * Loads the state a restart restores from (the seed's
 * `get_supervisor_state_for_restoration`), for the whole fleet a page at a time: in id
 * order, every supervisor whose lifecycle state is not terminal. With `dueBefore`, only
 * those that must run by then (work in flight, or a timer due before it): the others are
 * restored on their first touch. A restore of one supervisor (manual, a first touch, a
 * passivated one woken) reads its row with `getSupervisor`. With `slices`, only the
 * supervisors of those slices (what a node of several holds).
 */
export async function getSupervisorStateForRestoration(
  db: Queryable,
  page: { afterId?: string; limit: number; dueBefore?: Date; slices?: readonly number[] },
): Promise<SupervisorState[]> {
  const { rows } = await db.query<SupervisorRow>(
    `SELECT ${SUPERVISOR_COLUMNS} FROM supervisor_states
     WHERE state NOT IN ('completed', 'failed', 'cancelled')
       AND ($1::uuid IS NULL OR id > $1::uuid)
       AND ($3::timestamptz IS NULL OR work_in_flight OR next_timer_at < $3::timestamptz)
       AND ($4::smallint[] IS NULL OR slice = ANY ($4::smallint[]))
     ORDER BY id LIMIT $2`,
    [page.afterId ?? null, page.limit, page.dueBefore ?? null, page.slices ?? null],
  );
  return rows.map(toSupervisorState);
}

/** What a restart tells of a supervisor it leaves for its first touch: its questions. */
export interface DeferredSupervisor {
  id: string;
  owner: string | null;
  version: number;
  pendingQuestions: PendingQuestion[];
}

/**
 * The unfinished supervisors that need not run by `dueBefore` (no work in flight, no timer
 * due before it), a page at a time in id order, without their snapshots: what a restart
 * re-delivers of them without building them. With `slices`, only those of the slices.
 */
export async function listDeferredSupervisors(
  db: Queryable,
  page: { afterId?: string; limit: number; dueBefore: Date; slices?: readonly number[] },
): Promise<DeferredSupervisor[]> {
  const { rows } = await db.query<{
    id: string;
    owner: string | null;
    version: string | number;
    pending_questions: unknown;
  }>(
    `SELECT id, owner, version, pending_questions FROM supervisor_states
     WHERE state NOT IN ('completed', 'failed', 'cancelled')
       AND ($1::uuid IS NULL OR id > $1::uuid)
       AND NOT work_in_flight
       AND (next_timer_at IS NULL OR next_timer_at >= $3::timestamptz)
       AND ($4::smallint[] IS NULL OR slice = ANY ($4::smallint[]))
     ORDER BY id LIMIT $2`,
    [page.afterId ?? null, page.limit, page.dueBefore, page.slices ?? null],
  );
  return rows.map((row) => ({
    id: row.id,
    owner: row.owner,
    version: Number(row.version),
    pendingQuestions: PendingQuestion.array().parse(row.pending_questions),
  }));
}

/** One supervisor with a timer due, and when. */
export interface TimerDue {
  id: string;
  nextTimerAt: Date;
}

/** How many unfinished supervisors need not run by `dueBefore` (see listDeferredSupervisors). */
export async function countDeferredSupervisors(
  db: Queryable,
  dueBefore: Date,
  slices?: readonly number[],
): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM supervisor_states
     WHERE state NOT IN ('completed', 'failed', 'cancelled')
       AND NOT work_in_flight
       AND (next_timer_at IS NULL OR next_timer_at >= $1::timestamptz)
       AND ($2::smallint[] IS NULL OR slice = ANY ($2::smallint[]))`,
    [dueBefore, slices ?? null],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Unfinished supervisors whose next timer is due before `dueBefore`, soonest first, a page
 * at a time (`after`: the last one of the previous page): the wake-ups of those not in
 * memory, read through the `next_timer_at` index. With `slices`, only those of the slices.
 */
export async function listTimersDue(
  db: Queryable,
  page: { dueBefore: Date; limit: number; after?: TimerDue; slices?: readonly number[] },
): Promise<TimerDue[]> {
  const { rows } = await db.query<{ id: string; next_timer_at: Date }>(
    `SELECT id, next_timer_at FROM supervisor_states
     WHERE next_timer_at < $1::timestamptz
       AND next_timer_at IS NOT NULL
       AND state NOT IN ('completed', 'failed', 'cancelled')
       AND ($3::timestamptz IS NULL OR (next_timer_at, id) > ($3::timestamptz, $4::uuid))
       AND ($5::smallint[] IS NULL OR slice = ANY ($5::smallint[]))
     ORDER BY next_timer_at, id LIMIT $2`,
    [
      page.dueBefore,
      page.limit,
      page.after?.nextTimerAt ?? null,
      page.after?.id ?? null,
      page.slices ?? null,
    ],
  );
  return rows.map((row) => ({ id: row.id, nextTimerAt: new Date(row.next_timer_at) }));
}

/** What marking a restore recorded for one supervisor. */
export interface RestoreMark {
  id: string;
  restorationCount: number;
  lastRestoredAt: Date;
}

/** The kind of the entry a restore journals: a parameter, so the type checks it. */
const RESTORED: JournalKind = 'restored';

/** One restore to record: its supervisor, why, who asked, and the request's key if any. */
export interface RestoreRequest {
  id: string;
  source: RestorationSource;
  by?: Requester | null;
  /** Written into the entry: an idempotency key and its request hash. */
  idempotency?: Idempotency | undefined;
}

/**
 * Records restores of many supervisors in one statement (the seed's
 * `mark_supervisor_restored`): increments `restoration_count`, sets `last_restored_at` and
 * `restoration_source`, and journals each. Unknown ids are left out of the result.
 */
export async function markSupervisorRestored(
  db: Queryable,
  restores: readonly RestoreRequest[],
): Promise<RestoreMark[]> {
  if (restores.length === 0) return [];
  const { rows } = await db.query<{
    id: string;
    restoration_count: number;
    last_restored_at: Date;
  }>(
    `WITH restored AS (
       UPDATE supervisor_states s
       SET restoration_count = s.restoration_count + 1, last_restored_at = now(),
           restoration_source = r.source
       FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, source text, requested_by jsonb, keyed jsonb)
       WHERE s.id = r.id
       RETURNING s.id, s.version, s.restoration_count, s.last_restored_at, s.restoration_source,
                 r.requested_by, r.keyed
     ), journaled AS (
       INSERT INTO supervisor_events (supervisor_id, version, kind, payload)
       SELECT id, version, $2::text,
              jsonb_build_object('source', restoration_source, 'restorationCount', restoration_count)
              || CASE WHEN requested_by IS NULL THEN '{}'::jsonb
                      ELSE jsonb_build_object('by', requested_by) END
              || coalesce(keyed, '{}'::jsonb)
       FROM restored
     )
     SELECT id, restoration_count, last_restored_at FROM restored`,
    [
      JSON.stringify(
        restores.map((r) => ({
          id: r.id,
          source: r.source,
          requested_by: r.by,
          keyed: idempotencyFields(r.idempotency),
        })),
      ),
      RESTORED,
    ],
  );
  return rows.map((row) => ({
    id: row.id,
    restorationCount: row.restoration_count,
    lastRestoredAt: row.last_restored_at,
  }));
}

/**
 * Lightweight heartbeat (the seed's `update_supervisor_heartbeat_state`): touches
 * `last_heartbeat` of many supervisors without rewriting their snapshots. Resolves how
 * many rows it touched. `last_heartbeat` is not derived from the snapshot: it says when
 * the runtime last had the supervisor in memory.
 */
export async function updateSupervisorHeartbeatState(
  db: Queryable,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await db.query(
    'UPDATE supervisor_states SET last_heartbeat = now() WHERE id = ANY ($1::uuid[])',
    [ids],
  );
  return rowCount;
}
