import type { Checkpoint, JournalEvent } from '../model/task.ts';
import type { Queryable } from './database.ts';

/** A journal entry to append. */
export interface NewJournalEvent {
  supervisorId: string;
  version: number | null;
  kind: string;
  payload?: unknown;
}

/** Appends journal entries in one statement, in the order given. */
export async function appendEvents(
  db: Queryable,
  events: readonly NewJournalEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO supervisor_events (supervisor_id, version, kind, payload)
     SELECT (e->>'supervisor_id')::uuid, (e->>'version')::bigint, e->>'kind',
            coalesce(nullif(e->'payload', 'null'::jsonb), '{}'::jsonb)
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x (e, ord)
     ORDER BY ord`,
    [
      JSON.stringify(
        events.map((e) => ({
          supervisor_id: e.supervisorId,
          version: e.version,
          kind: e.kind,
          payload: e.payload ?? null,
        })),
      ),
    ],
  );
}

/** A supervisor's journal in the order it was written ("conversation history"). */
export async function listEvents(
  db: Queryable,
  supervisorId: string,
  page: { afterId?: number; limit?: number } = {},
): Promise<JournalEvent[]> {
  const { rows } = await db.query<{
    id: string | number;
    supervisor_id: string;
    version: string | number | null;
    kind: string;
    payload: unknown;
    created_at: Date;
  }>(
    `SELECT id, supervisor_id, version, kind, payload, created_at FROM supervisor_events
     WHERE supervisor_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
    [supervisorId, page.afterId ?? 0, page.limit ?? 10_000],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    supervisorId: row.supervisor_id,
    version: row.version === null ? null : Number(row.version),
    kind: row.kind,
    payload: row.payload,
    createdAt: row.created_at,
  }));
}

/** A checkpoint to keep. */
export type NewCheckpoint = Omit<Checkpoint, 'createdAt'>;

/** Keeps checkpoints; a second checkpoint of the same supervisor version replaces the first. */
export async function saveCheckpoints(
  db: Queryable,
  checkpoints: readonly NewCheckpoint[],
): Promise<void> {
  if (checkpoints.length === 0) return;
  await db.query(
    `INSERT INTO supervisor_checkpoints (supervisor_id, version, machine_version, phase, snapshot, timers)
     SELECT supervisor_id, version, machine_version, phase, snapshot, timers
     FROM jsonb_to_recordset($1::jsonb) AS r (
       supervisor_id uuid, version bigint, machine_version integer, phase text,
       snapshot jsonb, timers jsonb
     )
     ON CONFLICT (supervisor_id, version) DO UPDATE
       SET phase = excluded.phase, snapshot = excluded.snapshot, timers = excluded.timers`,
    [
      JSON.stringify(
        checkpoints.map((c) => ({
          supervisor_id: c.supervisorId,
          version: c.version,
          machine_version: c.machineVersion,
          phase: c.phase,
          snapshot: c.snapshot,
          timers: c.timers,
        })),
      ),
    ],
  );
}

/** A supervisor's checkpoints, newest first: the order restoration falls back through. */
export async function listCheckpoints(
  db: Queryable,
  supervisorId: string,
  limit = 10,
): Promise<Checkpoint[]> {
  const { rows } = await db.query<{
    supervisor_id: string;
    version: string | number;
    machine_version: number;
    phase: string | null;
    snapshot: unknown;
    timers: unknown[];
    created_at: Date;
  }>(
    `SELECT supervisor_id, version, machine_version, phase, snapshot, timers, created_at
     FROM supervisor_checkpoints WHERE supervisor_id = $1 ORDER BY version DESC LIMIT $2`,
    [supervisorId, limit],
  );
  return rows.map((row) => ({
    supervisorId: row.supervisor_id,
    version: Number(row.version),
    machineVersion: row.machine_version,
    phase: row.phase,
    snapshot: row.snapshot,
    timers: row.timers,
    createdAt: row.created_at,
  }));
}
