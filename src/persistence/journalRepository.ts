import { StewardError } from '../errors.ts';
import { JOURNAL_KINDS, JournalKind } from '../model/journalKinds.ts';
import type { Checkpoint, JournalEvent } from '../model/task.ts';
import type { Queryable } from './database.ts';
import { serializeRows } from './rawJson.ts';

/** A journal entry to append. */
export interface NewJournalEvent {
  supervisorId: string;
  version: number | null;
  kind: JournalKind;
  payload?: unknown;
  /** The machine's state value at `version` (dotted paths joined by `;`), when captured. */
  stateValue?: string;
}

/** Which journal entries of a batch go in, by relations of the same statement. */
export interface EventFilter {
  /** A relation with an `id` column: only entries of these supervisors. */
  onlyFor: string;
  /**
   * A relation with `id` and `version`: only entries newer than that stored version. A
   * retried write whose first attempt did commit then adds no entry a second time.
   */
  newerThan: string;
}

/**
 * The insert of journal entries from a jsonb array parameter (see `eventRows`), in array
 * order, optionally filtered by other relations of the same statement.
 */
export function insertEventsSql(param: string, filter?: EventFilter): string {
  // Joins, not a correlated subquery per entry: with 500 supervisors and 1,000 entries in
  // a batch, a subquery scanning the relation for each entry made the commit quadratic.
  const filtered = filter
    ? `JOIN ${filter.onlyFor} saved_for ON saved_for.id = x.supervisor_id
       LEFT JOIN ${filter.newerThan} newer_than ON newer_than.id = x.supervisor_id
       WHERE x.version > coalesce(newer_than.version, -1)`
    : '';
  return `
  INSERT INTO supervisor_events (supervisor_id, version, kind, payload, state_value)
  SELECT x.supervisor_id, x.version, x.kind, x.payload, x.state_value
  FROM (
    SELECT (e->>'supervisor_id')::uuid AS supervisor_id, (e->>'version')::bigint AS version,
           e->>'kind' AS kind, coalesce(nullif(e->'payload', 'null'::jsonb), '{}'::jsonb) AS payload,
           e->>'state_value' AS state_value, ord
    FROM jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS j (e, ord)
  ) AS x
  ${filtered}
  ORDER BY x.ord`;
}

/** The parameter of `insertEventsSql`. */
export function eventRows(events: readonly NewJournalEvent[]): string {
  return JSON.stringify(
    events.map((e) => ({
      supervisor_id: e.supervisorId,
      version: e.version,
      kind: e.kind,
      payload: e.payload ?? null,
      state_value: e.stateValue ?? null,
    })),
  );
}

/** Appends journal entries in one statement, in the order given. */
export async function appendEvents(
  db: Queryable,
  events: readonly NewJournalEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(insertEventsSql('$1'), [eventRows(events)]);
}

interface JournalRow {
  id: string | number;
  supervisor_id: string;
  version: string | number | null;
  kind: string;
  payload: unknown;
  state_value: string | null;
  created_at: Date;
}

const JOURNAL_COLUMNS = 'id, supervisor_id, version, kind, payload, state_value, created_at';

/**
 * The kind of a stored entry, checked: the column is plain text, and an entry of a kind
 * this runtime does not declare (written by a newer Steward, or by hand) is refused by
 * name rather than handed on as something it is not.
 */
function kindOf(row: JournalRow): JournalKind {
  const parsed = JournalKind.safeParse(row.kind);
  if (parsed.success) return parsed.data;
  throw new StewardError(
    'ERR_INTERNAL',
    `journal entry ${row.id} of supervisor ${row.supervisor_id} has kind ${JSON.stringify(row.kind)}, which this version of Steward does not declare (src/model/journalKinds.ts): was it written by a newer version?`,
    { id: Number(row.id), supervisorId: row.supervisor_id, kind: row.kind, known: JOURNAL_KINDS },
  );
}

function toJournalEvent(row: JournalRow): JournalEvent {
  return {
    id: Number(row.id),
    supervisorId: row.supervisor_id,
    version: row.version === null ? null : Number(row.version),
    kind: kindOf(row),
    payload: row.payload,
    stateValue: row.state_value,
    createdAt: row.created_at,
  };
}

/** A supervisor's journal in the order it was written ("conversation history"). */
export async function listEvents(
  db: Queryable,
  supervisorId: string,
  page: { afterId?: number; limit?: number } = {},
): Promise<JournalEvent[]> {
  const { rows } = await db.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM supervisor_events
     WHERE supervisor_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
    [supervisorId, page.afterId ?? 0, page.limit ?? 10_000],
  );
  return rows.map(toJournalEvent);
}

/**
 * A page of a supervisor's journal, newest first: the entries before the entry id
 * `before` (all, without it), at most `limit`. The primary key orders them, so paging by
 * the last id seen returns every entry exactly once while new ones are appended.
 */
// One range condition, not "$2 IS NULL OR id < $2": the index (supervisor_id, id) is then
// walked backwards from the start of the range whatever the plan.
export async function listEventsBefore(
  db: Queryable,
  supervisorId: string,
  page: { before?: number; limit: number },
): Promise<JournalEvent[]> {
  const { rows } = await db.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM supervisor_events
     WHERE supervisor_id = $1 AND id < coalesce($2::bigint, 9223372036854775807)
     ORDER BY id DESC LIMIT $3`,
    [supervisorId, page.before ?? null, page.limit],
  );
  return rows.map(toJournalEvent);
}

/**
 * The newest `perSupervisor` journal entries of each of many supervisors, oldest first
 * per supervisor, in one statement: the history a restore hands back.
 */
export async function recentEvents(
  db: Queryable,
  supervisorIds: readonly string[],
  perSupervisor: number,
): Promise<Map<string, JournalEvent[]>> {
  const history = new Map<string, JournalEvent[]>();
  if (supervisorIds.length === 0) return history;
  const { rows } = await db.query<JournalRow>(
    // A limited index scan per supervisor: a window over whole journals would read every
    // entry of each, and journals only grow.
    `SELECT ${JOURNAL_COLUMNS} FROM (SELECT DISTINCT unnest($1::uuid[]) AS sid) wanted
     CROSS JOIN LATERAL (
       SELECT ${JOURNAL_COLUMNS} FROM supervisor_events
       WHERE supervisor_id = wanted.sid ORDER BY id DESC LIMIT $2
     ) newest ORDER BY supervisor_id, id`,
    [supervisorIds, perSupervisor],
  );
  for (const row of rows) {
    const list = history.get(row.supervisor_id) ?? [];
    list.push(toJournalEvent(row));
    history.set(row.supervisor_id, list);
  }
  return history;
}

/**
 * The entries written with an idempotency key since `since`, oldest first: at most one per
 * principal that sent the key (the caller tells them apart by `by`).
 */
// The partial expression index supervisor_events_idempotency_key_idx serves it: the
// equality on the key implies the index's predicate.
export async function listEventsWithKey(
  db: Queryable,
  key: string,
  since: Date,
): Promise<JournalEvent[]> {
  const { rows } = await db.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM supervisor_events
     WHERE payload->>'idempotencyKey' = $1 AND created_at >= $2 ORDER BY id`,
    [key, since],
  );
  return rows.map(toJournalEvent);
}

/**
 * Adds the reply to the newest entry of a supervisor written with this key, request hash
 * and requester: a reply that only exists after its commit (a retry's, a restore's), kept
 * so that a repeat answers it again. Resolves whether an entry took it.
 */
export async function addReplyToKeyedEvent(
  db: Queryable,
  entry: { supervisorId: string; key: string; requestHash: string; by: unknown },
  reply: unknown,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE supervisor_events SET payload = payload || jsonb_build_object('reply', $5::jsonb)
     WHERE id = (
       SELECT max(id) FROM supervisor_events
       WHERE payload->>'idempotencyKey' = $2 AND supervisor_id = $1
         AND payload->>'requestHash' = $3 AND coalesce(payload->'by', 'null'::jsonb) = $4::jsonb
     )`,
    [
      entry.supervisorId,
      entry.key,
      entry.requestHash,
      JSON.stringify(entry.by ?? null),
      JSON.stringify(reply),
    ],
  );
  return rowCount > 0;
}

/** A checkpoint to keep. */
export type NewCheckpoint = Omit<Checkpoint, 'createdAt'>;

/**
 * The insert of checkpoints from a jsonb array parameter (see `checkpointRows`); a second
 * checkpoint of the same supervisor version replaces the first. With `onlyFor`, a relation
 * with an `id` column, only checkpoints of those supervisors.
 */
export function insertCheckpointsSql(param: string, onlyFor?: string): string {
  return `
  INSERT INTO supervisor_checkpoints (supervisor_id, version, machine_version, phase, snapshot, timers)
  SELECT supervisor_id, version, machine_version, phase, snapshot, timers
  FROM jsonb_to_recordset(${param}::jsonb) AS r (
    supervisor_id uuid, version bigint, machine_version integer, phase text,
    snapshot jsonb, timers jsonb
  )
  ${onlyFor ? `WHERE supervisor_id IN (SELECT id FROM ${onlyFor})` : ''}
  ON CONFLICT (supervisor_id, version) DO UPDATE
    SET phase = excluded.phase, snapshot = excluded.snapshot, timers = excluded.timers`;
}

/** The parameter of `insertCheckpointsSql`: a RawJson snapshot is embedded verbatim. */
export function checkpointRows(checkpoints: readonly NewCheckpoint[]): string {
  return serializeRows(
    checkpoints,
    'snapshot',
    (c) => c.snapshot,
    (c) => ({
      supervisor_id: c.supervisorId,
      version: c.version,
      machine_version: c.machineVersion,
      phase: c.phase,
      timers: c.timers,
    }),
  );
}

/** Keeps checkpoints; a second checkpoint of the same supervisor version replaces the first. */
export async function saveCheckpoints(
  db: Queryable,
  checkpoints: readonly NewCheckpoint[],
): Promise<void> {
  if (checkpoints.length === 0) return;
  await db.query(insertCheckpointsSql('$1'), [checkpointRows(checkpoints)]);
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
