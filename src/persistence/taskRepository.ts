import type { StateValidationResult, StateViolation } from '../model/restoration.ts';
import type { SupervisorState } from '../model/supervisor.ts';
import type { TaskRecord, TaskRowWrite, TaskStatus } from '../model/task.ts';
import type { Queryable } from './database.ts';
import { getSupervisor } from './supervisorRepository.ts';

interface TaskRow {
  restart_policy: unknown;
  restarts: number[];
  id: string;
  supervisor_id: string;
  name: string;
  status: TaskStatus;
  input: unknown;
  result: unknown;
  error: string | null;
  attempts: number;
  created_at: Date;
  updated_at: Date;
}

function toTaskRecord(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    supervisorId: row.supervisor_id,
    name: row.name,
    status: row.status,
    input: row.input,
    result: row.result,
    error: row.error,
    attempts: row.attempts,
    policy: row.restart_policy,
    restarts: row.restarts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// A terminal outcome recorded for an attempt (recordTaskOutcome) is not walked back by a
// snapshot written before the supervisor took it: the row may run ahead of the snapshot.
const OUTCOME_AHEAD = `(t.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
      AND excluded.status IN ('pending', 'running') AND t.attempts = excluded.attempts)`;

/**
 * The upsert of task rows as supervisors' snapshots describe them, from a jsonb array
 * parameter (see `taskRows`). With `onlyFor`, a relation with an `id` column, only tasks
 * of those supervisors.
 */
export function upsertTasksSql(param: string, onlyFor?: string): string {
  return `
  INSERT INTO supervisor_tasks AS t (id, supervisor_id, name, status, input, result, error,
    attempts, restart_policy, restarts)
  SELECT id, supervisor_id, name, status, input, result, error, attempts, restart_policy, restarts
  FROM jsonb_to_recordset(${param}::jsonb) AS r (
    id uuid, supervisor_id uuid, name text, status text, input jsonb, result jsonb, error text,
    attempts integer, restart_policy jsonb, restarts jsonb
  )
  ${onlyFor ? `WHERE supervisor_id IN (SELECT id FROM ${onlyFor})` : ''}
  ON CONFLICT (id) DO UPDATE SET
    status = CASE WHEN ${OUTCOME_AHEAD} THEN t.status ELSE excluded.status END,
    result = CASE WHEN ${OUTCOME_AHEAD} THEN t.result ELSE excluded.result END,
    error = CASE WHEN ${OUTCOME_AHEAD} THEN t.error ELSE excluded.error END,
    finished_at = CASE
      WHEN ${OUTCOME_AHEAD} THEN t.finished_at
      WHEN excluded.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
      THEN coalesce(t.finished_at, now()) END,
    attempts = excluded.attempts,
    restart_policy = excluded.restart_policy,
    restarts = excluded.restarts,
    updated_at = now()`;
}

/** The parameter of `upsertTasksSql`. */
export function taskRows(tasks: readonly TaskRowWrite[]): string {
  return JSON.stringify(
    tasks.map((t) => ({
      id: t.id,
      supervisor_id: t.supervisorId,
      name: t.name,
      status: t.status,
      input: t.input ?? null,
      result: t.result ?? null,
      error: t.error,
      attempts: t.attempt,
      restart_policy: t.policy,
      restarts: t.restarts,
    })),
  );
}

/** How one run of a task ended, recorded before the supervisor is told. */
export interface TaskOutcome {
  taskId: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
  result?: unknown;
  error?: string | null;
}

/**
 * Records how a task run ended in its row, ahead of the supervisor's snapshot: an outcome
 * the supervisor had not taken yet when the process died is delivered after a restore
 * instead of being computed again. Only the run's own attempt is updated.
 */
export async function recordTaskOutcome(db: Queryable, outcome: TaskOutcome): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE supervisor_tasks
     SET status = $3, result = $4::jsonb, error = $5, finished_at = now(), updated_at = now()
     WHERE id = $1 AND attempts = $2`,
    [
      outcome.taskId,
      outcome.attempt,
      outcome.status,
      JSON.stringify(outcome.result ?? null),
      outcome.error ?? null,
    ],
  );
  return rowCount === 1;
}

/** A task to record; status defaults to `pending`. */
export interface NewTask {
  id: string;
  supervisorId: string;
  name: string;
  input?: unknown;
  status?: TaskStatus;
}

/** Inserts task rows; a task id already recorded is left as it is. */
export async function insertTasks(db: Queryable, tasks: readonly NewTask[]): Promise<void> {
  if (tasks.length === 0) return;
  await db.query(
    `INSERT INTO supervisor_tasks (id, supervisor_id, name, status, input)
     SELECT id, supervisor_id, name, coalesce(status, 'pending'), input
     FROM jsonb_to_recordset($1::jsonb)
       AS r (id uuid, supervisor_id uuid, name text, status text, input jsonb)
     ON CONFLICT (id) DO NOTHING`,
    [
      JSON.stringify(
        tasks.map((t) => ({
          id: t.id,
          supervisor_id: t.supervisorId,
          name: t.name,
          status: t.status ?? null,
          input: t.input ?? null,
        })),
      ),
    ],
  );
}

/** The task rows of many supervisors in one read, each supervisor's in id order. */
export async function listTasksOf(
  db: Queryable,
  supervisorIds: readonly string[],
): Promise<Map<string, TaskRecord[]>> {
  const bySupervisor = new Map<string, TaskRecord[]>(supervisorIds.map((id) => [id, []]));
  if (supervisorIds.length === 0) return bySupervisor;
  const { rows } = await db.query<TaskRow>(
    'SELECT * FROM supervisor_tasks WHERE supervisor_id = ANY ($1::uuid[]) ORDER BY supervisor_id, id',
    [supervisorIds],
  );
  for (const row of rows) bySupervisor.get(row.supervisor_id)?.push(toTaskRecord(row));
  return bySupervisor;
}

/** Every task row of a supervisor, in id order. */
export async function listTasks(db: Queryable, supervisorId: string): Promise<TaskRecord[]> {
  const { rows } = await db.query<TaskRow>(
    'SELECT * FROM supervisor_tasks WHERE supervisor_id = $1 ORDER BY id',
    [supervisorId],
  );
  return rows.map(toTaskRecord);
}

interface SnapshotTask {
  status?: TaskStatus;
  attempt?: number;
}

function tasksInSnapshot(snapshot: unknown): Record<string, SnapshotTask> {
  const tasks = (snapshot as { context?: { tasks?: unknown } } | null)?.context?.tasks;
  return tasks && typeof tasks === 'object' ? (tasks as Record<string, SnapshotTask>) : {};
}

const TERMINAL: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

/** The disagreements between the snapshot's view of one task and its row. */
function compareTask(id: string, mine: SnapshotTask, row: TaskRecord): StateViolation[] {
  if (mine.attempt !== undefined && mine.attempt !== row.attempts) {
    return [
      {
        code: 'task_attempt_mismatch',
        message: `task ${id}: the snapshot is at attempt ${mine.attempt}, its row at ${row.attempts}`,
        subject: id,
        action: 'write_row',
      },
    ];
  }
  if (mine.status === row.status) return [];
  const rowAhead = TERMINAL.includes(row.status) && !TERMINAL.includes(mine.status ?? 'pending');
  return [
    rowAhead
      ? {
          code: 'task_outcome_undelivered',
          message: `task ${id} ${row.status}, but the snapshot still has it ${mine.status}: its outcome must be delivered`,
          subject: id,
          action: 'deliver_outcome',
        }
      : {
          code: 'task_status_mismatch',
          message: `task ${id} is ${mine.status} in the snapshot but ${row.status} in its row`,
          subject: id,
          action: 'write_row',
        },
  ];
}

/**
 * Checks a supervisor's tasks (the seed's `validate_spawned_tasks`): every id of
 * `spawned_task_ids` has a row, every row is listed, and each row's status and attempt
 * agree with the snapshot. The snapshot is the truth, so each violation names what
 * repairs it: write the row from the snapshot, deliver an outcome the row recorded first,
 * or cancel a row no snapshot knows of.
 */
export async function validateSpawnedTasks(
  db: Queryable,
  supervisorId: string,
): Promise<StateValidationResult> {
  const supervisor = await getSupervisor(db, supervisorId);
  if (!supervisor) {
    return {
      valid: false,
      violations: [
        { code: 'supervisor_missing', message: `no supervisor with id ${supervisorId}` },
      ],
      recovery: 'start_fresh',
    };
  }
  return validateTaskRows(supervisor, await listTasks(db, supervisorId));
}

/** `validateSpawnedTasks` of a stored supervisor and its task rows, read already. */
export function validateTaskRows(
  supervisor: Pick<SupervisorState, 'spawnedTaskIds' | 'snapshot'>,
  taskRows: readonly TaskRecord[],
): StateValidationResult {
  const rows = new Map(taskRows.map((row) => [row.id, row]));
  const listed = new Set(supervisor.spawnedTaskIds);
  const snapshotTasks = tasksInSnapshot(supervisor.snapshot);
  const violations: StateViolation[] = [];
  for (const id of supervisor.spawnedTaskIds) {
    const row = rows.get(id);
    if (!row) {
      violations.push({
        code: 'task_row_missing',
        message: `spawned task ${id} has no row in supervisor_tasks`,
        subject: id,
        action: 'write_row',
      });
    } else violations.push(...compareTask(id, snapshotTasks[id] ?? {}, row));
  }
  for (const row of rows.values()) {
    // A row no snapshot knows of is harmless once cancelled: that is its repair.
    if (!listed.has(row.id) && row.status !== 'cancelled') {
      violations.push({
        code: 'task_row_extra',
        message: `task ${row.id} (${row.name}) is recorded but not in spawned_task_ids`,
        subject: row.id,
        action: 'cancel_row',
      });
    }
  }
  return {
    valid: violations.length === 0,
    violations,
    recovery: violations.length === 0 ? 'proceed' : 'repair',
  };
}

/**
 * Brings task rows in line with the snapshot, as validation asks: writes the rows the
 * snapshot describes (`write_row`) and cancels rows it does not know (`cancel_row`).
 */
export async function repairTaskRows(
  db: Queryable,
  rows: readonly TaskRowWrite[],
  cancelIds: readonly string[],
): Promise<void> {
  if (rows.length > 0) await db.query(upsertTasksSql('$1'), [taskRows(rows)]);
  if (cancelIds.length > 0) {
    await db.query(
      `UPDATE supervisor_tasks SET status = 'cancelled', finished_at = coalesce(finished_at, now()),
         updated_at = now()
       WHERE id = ANY ($1::uuid[]) AND status IN ('pending', 'running')`,
      [cancelIds],
    );
  }
}
