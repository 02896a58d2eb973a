import { StewardError } from '../errors.ts';
import type {
  LifecycleState,
  PendingQuestion,
  RestorationSource,
  SupervisorState,
  SupervisorWrite,
} from '../model/supervisor.ts';
import type { Queryable } from './database.ts';
import { serializeRows } from './rawJson.ts';
import { SUPERVISOR_COLUMNS, type SupervisorRow, toSupervisorState } from './supervisorRows.ts';

function notFound(id: string): StewardError {
  return new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${id}`, { id });
}

/** Outcome of a group write: which rows were written and which lost to a newer version. */
export interface SaveStatesResult {
  saved: string[];
  /** Ids whose stored version was already equal or newer: nothing was written for them. */
  stale: string[];
}

/**
 * The upsert of any number of supervisor rows, read from a jsonb array parameter (see
 * `stateRows`); returns the ids it wrote. An existing row is replaced only by a newer
 * version. Machine id and owner are fixed at creation and never rewritten.
 */
export function upsertStatesSql(param: string): string {
  return `
  INSERT INTO supervisor_states AS s (
    id, machine_id, machine_version, owner, snapshot, input, xstate_version, timers, version,
    state, state_value, tags, current_activity, progress, phase, error_message,
    spawned_task_ids, pending_questions
  )
  SELECT id, machine_id, machine_version, owner, snapshot, input, xstate_version, timers, version,
         state, state_value, tags, current_activity, progress, phase, error_message,
         spawned_task_ids, pending_questions
  FROM jsonb_to_recordset(${param}::jsonb) AS r (
    id uuid, machine_id text, machine_version integer, owner text, snapshot jsonb, input jsonb,
    xstate_version text, timers jsonb, version bigint, state supervisor_state,
    state_value text, tags text[], current_activity text, progress smallint, phase text,
    error_message text, spawned_task_ids uuid[], pending_questions jsonb
  )
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
    updated_at = now()
  WHERE s.version < excluded.version
  RETURNING id`;
}

/** The parameter of `upsertStatesSql`: a snapshot held as RawJson is embedded verbatim. */
export function stateRows(writes: readonly SupervisorWrite[]): string {
  return serializeRows(
    writes.map((w) => ({
      snapshot: w.snapshot,
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
    })),
    'snapshot',
  );
}

/** Splits the ids of a write into those written and those refused as stale. */
export function splitSaved(
  writes: readonly SupervisorWrite[],
  writtenIds: Iterable<string>,
): SaveStatesResult {
  const saved = new Set(writtenIds);
  return {
    saved: writes.filter((w) => saved.has(w.id)).map((w) => w.id),
    stale: writes.filter((w) => !saved.has(w.id)).map((w) => w.id),
  };
}

/**
 * Full state save (the seed's `save_supervisor_state_full`) for many supervisors in one
 * statement: inserts new rows, updates existing ones only where the stored `version` is
 * older.
 */
export async function saveStates(
  db: Queryable,
  writes: readonly SupervisorWrite[],
): Promise<SaveStatesResult> {
  if (writes.length === 0) return { saved: [], stale: [] };
  const { rows } = await db.query<{ id: string }>(upsertStatesSql('$1'), [stateRows(writes)]);
  return splitSaved(
    writes,
    rows.map((row) => row.id),
  );
}

/**
 * Full state save of one supervisor (upsert). Resolves `stale` when the stored row has the
 * same or a newer version: an older snapshot never replaces a newer one.
 */
export async function saveStateFull(
  db: Queryable,
  write: SupervisorWrite,
): Promise<'saved' | 'stale'> {
  const { saved } = await saveStates(db, [write]);
  return saved.length === 1 ? 'saved' : 'stale';
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
 * Loads the state a restore starts from (the seed's `get_supervisor_state_for_restoration`):
 * `null` when none is stored, which the restoration protocol answers by starting afresh.
 */
export function getStateForRestoration(db: Queryable, id: string): Promise<SupervisorState | null> {
  return getSupervisor(db, id);
}

/**
 * Loads, in id order, a page of the supervisors a restart must restore: every one whose
 * lifecycle state is not terminal.
 */
export async function listRestorable(
  db: Queryable,
  page: { afterId?: string; limit: number },
): Promise<SupervisorState[]> {
  const { rows } = await db.query<SupervisorRow>(
    `SELECT ${SUPERVISOR_COLUMNS} FROM supervisor_states
     WHERE state NOT IN ('completed', 'failed', 'cancelled')
       AND ($1::uuid IS NULL OR id > $1::uuid)
     ORDER BY id LIMIT $2`,
    [page.afterId ?? null, page.limit],
  );
  return rows.map(toSupervisorState);
}

/**
 * Supervisors with at least one pending question (the seed's
 * `get_supervisors_with_pending_questions`), in id order, optionally for one owner.
 */
export async function getSupervisorsWithPendingQuestions(
  db: Queryable,
  filter: { owner?: string; afterId?: string; limit?: number } = {},
): Promise<SupervisorState[]> {
  const { rows } = await db.query<SupervisorRow>(
    `SELECT ${SUPERVISOR_COLUMNS} FROM supervisor_states
     WHERE has_pending_questions
       AND ($1::text IS NULL OR owner = $1)
       AND ($2::uuid IS NULL OR id > $2::uuid)
     ORDER BY id LIMIT $3`,
    [filter.owner ?? null, filter.afterId ?? null, filter.limit ?? 1000],
  );
  return rows.map(toSupervisorState);
}

/**
 * Sets lifecycle state, activity and progress (the seed's `update_supervisor_detailed_state`).
 * The runtime derives these from snapshots through `saveStates`; this is for tools and
 * repairs that act on the row alone.
 */
export async function updateDetailedState(
  db: Queryable,
  id: string,
  detail: { state: LifecycleState; currentActivity: string | null; progress: number },
): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE supervisor_states
     SET state = $2, current_activity = $3, progress = $4, updated_at = now()
     WHERE id = $1`,
    [id, detail.state, detail.currentActivity, detail.progress],
  );
  if (rowCount === 0) throw notFound(id);
}

// The row is locked first so that concurrent appends each see the previous one's result
// and none is lost; `found` tells a missing supervisor from a no-op.
const ADD_SPAWNED_TASK = `
  WITH target AS (
    SELECT id, spawned_task_ids FROM supervisor_states WHERE id = $1 FOR UPDATE
  ), changed AS (
    UPDATE supervisor_states s
    SET spawned_task_ids = array_append(target.spawned_task_ids, $2::uuid), updated_at = now()
    FROM target
    WHERE s.id = target.id AND NOT ($2::uuid = ANY (target.spawned_task_ids))
    RETURNING s.id
  )
  SELECT (SELECT count(*) FROM target)::int AS found, (SELECT count(*) FROM changed)::int AS changed`;

/** Records a spawned task id (the seed's `add_supervisor_spawned_task`); idempotent. */
export async function addSpawnedTask(
  db: Queryable,
  id: string,
  taskId: string,
): Promise<{ added: boolean }> {
  const { rows } = await db.query<{ found: number; changed: number }>(ADD_SPAWNED_TASK, [
    id,
    taskId,
  ]);
  if (!rows[0]?.found) throw notFound(id);
  return { added: rows[0].changed === 1 };
}

const ADD_PENDING_QUESTION = `
  WITH target AS (
    SELECT id, pending_questions FROM supervisor_states WHERE id = $1 FOR UPDATE
  ), changed AS (
    UPDATE supervisor_states s
    SET pending_questions = target.pending_questions || jsonb_build_array($2::jsonb),
        updated_at = now()
    FROM target
    WHERE s.id = target.id
      AND NOT target.pending_questions @> jsonb_build_array(jsonb_build_object('id', $3::text))
    RETURNING s.id
  )
  SELECT (SELECT count(*) FROM target)::int AS found, (SELECT count(*) FROM changed)::int AS changed`;

/**
 * Adds a pending question (the seed's `add_supervisor_pending_question`). A question whose
 * id is already pending changes nothing: `added` is false.
 */
export async function addPendingQuestion(
  db: Queryable,
  id: string,
  question: PendingQuestion,
): Promise<{ added: boolean }> {
  const { rows } = await db.query<{ found: number; changed: number }>(ADD_PENDING_QUESTION, [
    id,
    JSON.stringify(question),
    question.id,
  ]);
  if (!rows[0]?.found) throw notFound(id);
  return { added: rows[0].changed === 1 };
}

const REMOVE_PENDING_QUESTION = `
  WITH target AS (
    SELECT id, pending_questions FROM supervisor_states WHERE id = $1 FOR UPDATE
  ), changed AS (
    UPDATE supervisor_states s
    SET pending_questions = (
          SELECT coalesce(jsonb_agg(q.value ORDER BY q.ordinality), '[]'::jsonb)
          FROM jsonb_array_elements(target.pending_questions) WITH ORDINALITY AS q
          WHERE q.value->>'id' <> $2
        ),
        updated_at = now()
    FROM target
    WHERE s.id = target.id
      AND target.pending_questions @> jsonb_build_array(jsonb_build_object('id', $2::text))
    RETURNING s.id
  )
  SELECT (SELECT count(*) FROM target)::int AS found, (SELECT count(*) FROM changed)::int AS changed`;

/**
 * Removes an answered question (the seed's `remove_supervisor_pending_question`).
 * `removed` is false when no question with that id was pending.
 */
export async function removePendingQuestion(
  db: Queryable,
  id: string,
  questionId: string,
): Promise<{ removed: boolean }> {
  const { rows } = await db.query<{ found: number; changed: number }>(REMOVE_PENDING_QUESTION, [
    id,
    questionId,
  ]);
  if (!rows[0]?.found) throw notFound(id);
  return { removed: rows[0].changed === 1 };
}

/** What marking a restore recorded for one supervisor. */
export interface RestoreMark {
  id: string;
  restorationCount: number;
  lastRestoredAt: Date;
}

/**
 * Records restores of many supervisors in one statement (the seed's
 * `mark_supervisor_restored`): increments `restoration_count`, sets `last_restored_at` and
 * `restoration_source`, and journals each. Unknown ids are left out of the result.
 */
export async function markRestoredMany(
  db: Queryable,
  restores: ReadonlyArray<{ id: string; source: RestorationSource }>,
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
       FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, source text)
       WHERE s.id = r.id
       RETURNING s.id, s.version, s.restoration_count, s.last_restored_at, s.restoration_source
     ), journaled AS (
       INSERT INTO supervisor_events (supervisor_id, version, kind, payload)
       SELECT id, version, 'restored',
              jsonb_build_object('source', restoration_source, 'restorationCount', restoration_count)
       FROM restored
     )
     SELECT id, restoration_count, last_restored_at FROM restored`,
    [JSON.stringify(restores)],
  );
  return rows.map((row) => ({
    id: row.id,
    restorationCount: row.restoration_count,
    lastRestoredAt: row.last_restored_at,
  }));
}

/** Records the restore of one supervisor; see `markRestoredMany`. */
export async function markRestored(
  db: Queryable,
  id: string,
  source: RestorationSource,
): Promise<{ restorationCount: number; lastRestoredAt: Date }> {
  const [mark] = await markRestoredMany(db, [{ id, source }]);
  if (!mark) throw notFound(id);
  return { restorationCount: mark.restorationCount, lastRestoredAt: mark.lastRestoredAt };
}

/**
 * Records a phase change (the seed's `update_supervisor_phase`): sets `phase`, keeps the
 * current snapshot as a checkpoint to fall back to, and journals the change, atomically.
 */
export async function updatePhase(db: Queryable, id: string, phase: string): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    `WITH before AS (
       SELECT id, phase FROM supervisor_states WHERE id = $1 FOR UPDATE
     ), updated AS (
       UPDATE supervisor_states s SET phase = $2, updated_at = now()
       FROM before WHERE s.id = before.id
       RETURNING s.id, s.version, s.machine_version, s.snapshot, s.timers, before.phase AS previous
     ), checkpoint AS (
       INSERT INTO supervisor_checkpoints (supervisor_id, version, machine_version, phase, snapshot, timers)
       SELECT id, version, machine_version, $2, snapshot, timers FROM updated
       ON CONFLICT (supervisor_id, version) DO UPDATE SET phase = excluded.phase
     ), journaled AS (
       INSERT INTO supervisor_events (supervisor_id, version, kind, payload)
       SELECT id, version, 'phase_changed', jsonb_build_object('from', previous, 'to', $2::text)
       FROM updated
     )
     SELECT id FROM updated`,
    [id, phase],
  );
  if (rows.length === 0) throw notFound(id);
}

/**
 * Lightweight heartbeat (the seed's `update_supervisor_heartbeat_state`): touches
 * `last_heartbeat` of many supervisors without rewriting their snapshots. Resolves how
 * many rows it touched.
 */
export async function updateHeartbeats(db: Queryable, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await db.query(
    'UPDATE supervisor_states SET last_heartbeat = now() WHERE id = ANY ($1::uuid[])',
    [ids],
  );
  return rowCount;
}
