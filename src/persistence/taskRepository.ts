import type { StateValidationResult, StateViolation } from '../model/restoration.ts';
import type { TaskRecord, TaskStatus } from '../model/task.ts';
import type { Queryable } from './database.ts';
import { getSupervisor } from './supervisorRepository.ts';

interface TaskRow {
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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
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

/** Every task row of a supervisor, in id order. */
export async function listTasks(db: Queryable, supervisorId: string): Promise<TaskRecord[]> {
  const { rows } = await db.query<TaskRow>(
    'SELECT * FROM supervisor_tasks WHERE supervisor_id = $1 ORDER BY id',
    [supervisorId],
  );
  return rows.map(toTaskRecord);
}

/**
 * Checks that a supervisor's `spawned_task_ids` and its task rows agree (the seed's
 * `validate_spawned_tasks`): every listed id has a row, every row is listed. Any
 * disagreement means the stored state is not to be trusted as it is.
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
  const rows = await listTasks(db, supervisorId);
  const listed = new Set(supervisor.spawnedTaskIds);
  const recorded = new Set(rows.map((row) => row.id));
  const violations: StateViolation[] = [
    ...supervisor.spawnedTaskIds
      .filter((id) => !recorded.has(id))
      .map((id) => ({
        code: 'task_row_missing',
        message: `spawned task ${id} has no row in supervisor_tasks`,
        subject: id,
      })),
    ...rows
      .filter((row) => !listed.has(row.id))
      .map((row) => ({
        code: 'task_row_extra',
        message: `task ${row.id} (${row.name}) is recorded but not in spawned_task_ids`,
        subject: row.id,
      })),
  ];
  return {
    valid: violations.length === 0,
    violations,
    recovery: violations.length === 0 ? 'proceed' : 'restore_from_checkpoint',
  };
}
