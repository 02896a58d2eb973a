import {
  type LifecycleState,
  type PendingQuestion,
  type RestorationSource,
  SupervisorState,
} from '../model/supervisor.ts';

/** A `supervisor_states` row as the drivers return it (bigint may arrive as a string). */
export interface SupervisorRow {
  id: string;
  machine_id: string;
  machine_version: number;
  owner: string | null;
  snapshot: unknown;
  input: unknown;
  xstate_version: string | null;
  timers: unknown[];
  version: string | number;
  state: LifecycleState;
  state_value: string;
  tags: string[];
  state_entered_at: Date;
  current_activity: string | null;
  progress: number;
  phase: string | null;
  error_message: string | null;
  spawned_task_ids: string[];
  pending_questions: PendingQuestion[];
  restoration_count: number;
  last_restored_at: Date | null;
  restoration_source: RestorationSource | null;
  last_heartbeat: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The select list that `toSupervisorState` maps; arrays come back as text[] on both engines. */
export const SUPERVISOR_COLUMNS = `
  id, machine_id, machine_version, owner, snapshot, input, xstate_version, timers, version,
  state, state_value, tags, state_entered_at, current_activity, progress, phase, error_message,
  spawned_task_ids::text[] AS spawned_task_ids, pending_questions,
  restoration_count, last_restored_at, restoration_source, last_heartbeat,
  created_at, updated_at`;

/** Maps a row to the domain type, validating it: a row the schema rejects is corrupt. */
export function toSupervisorState(row: SupervisorRow): SupervisorState {
  return SupervisorState.parse({
    id: row.id,
    machineId: row.machine_id,
    machineVersion: row.machine_version,
    owner: row.owner,
    snapshot: row.snapshot,
    input: row.input,
    xstateVersion: row.xstate_version,
    timers: row.timers,
    version: Number(row.version),
    state: row.state,
    stateValue: row.state_value,
    tags: row.tags,
    stateEnteredAt: row.state_entered_at,
    currentActivity: row.current_activity,
    progress: row.progress,
    phase: row.phase,
    errorMessage: row.error_message,
    spawnedTaskIds: row.spawned_task_ids,
    pendingQuestions: row.pending_questions,
    restorationCount: row.restoration_count,
    lastRestoredAt: row.last_restored_at,
    restorationSource: row.restoration_source,
    lastHeartbeat: row.last_heartbeat,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
