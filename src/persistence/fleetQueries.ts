import { z } from 'zod';
import { LIFECYCLE_STATES, LifecycleState, type SupervisorState } from '../model/supervisor.ts';
import type { Queryable } from './database.ts';
import { SUPERVISOR_COLUMNS, type SupervisorRow, toSupervisorState } from './supervisorRows.ts';

/** The filters a fleet of supervisors is listed by; all given filters must hold. */
export const FleetFilter = z.object({
  /** Lifecycle state, or any of several. */
  state: z.union([LifecycleState, z.array(LifecycleState).min(1)]).optional(),
  /** A state path or a prefix of one: `active.executing` matches `active.executing.running`. */
  stateValue: z.string().min(1).optional(),
  /** A non-lifecycle tag the current state carries. */
  tag: z.string().min(1).optional(),
  owner: z.string().min(1).optional(),
  machineId: z.string().min(1).optional(),
  hasPendingQuestions: z.boolean().optional(),
  /** In its current state for at least this many milliseconds. */
  stuckForMs: z.number().int().positive().optional(),
  progressMin: z.number().int().min(0).max(100).optional(),
  progressMax: z.number().int().min(0).max(100).optional(),
  /**
   * Words that must each appear (case aside) in the id, title or goal, owner, machine, state,
   * state path, phase or activity.
   */
  search: z.string().trim().min(1).max(200).optional(),
  /**
   * `id` (the default), or `attention`: waiting for a person first, then failed, then
   * running, then finished; the longest in their state first, the finished newest first.
   */
  order: z.enum(['id', 'attention']).default('id'),
  /** Keyset pagination: only supervisors after this one, in the order asked for. */
  afterId: z.uuid().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type FleetFilter = z.input<typeof FleetFilter>;

/** Escapes LIKE wildcards so that a value is matched literally. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A state path matched literally as a prefix. */
function likePrefix(value: string): string {
  return `${escapeLike(value)}%`;
}

/** What a search looks in: the fields the fleet page shows, one per line. */
const SEARCHED = `concat_ws(E'\\n', id::text, snapshot->'context'->>'title',
  snapshot->'context'->>'goal', owner, machine_id, state::text, state_value, phase,
  current_activity)`;

/** Builds the query for a filter. Exported so tests can EXPLAIN it. */
export function fleetQuery(input: FleetFilter): { text: string; params: unknown[] } {
  const filter = FleetFilter.parse(input);
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.stateValue !== undefined) {
    where.push(
      `(state_value = ${param(filter.stateValue)} OR state_value LIKE ${param(likePrefix(`${filter.stateValue}.`))})`,
    );
  }
  if (filter.tag !== undefined) where.push(`tags @> ARRAY[${param(filter.tag)}::text]`);
  if (filter.owner !== undefined) where.push(`owner = ${param(filter.owner)}`);
  if (filter.machineId !== undefined) where.push(`machine_id = ${param(filter.machineId)}`);
  if (filter.hasPendingQuestions === true) where.push(`has_pending_questions`);
  if (filter.hasPendingQuestions === false) where.push(`NOT has_pending_questions`);
  if (filter.stuckForMs !== undefined) {
    where.push(
      `state_entered_at < now() - make_interval(secs => ${param(filter.stuckForMs)}::double precision / 1000)`,
    );
  }
  if (filter.progressMin !== undefined) where.push(`progress >= ${param(filter.progressMin)}`);
  if (filter.progressMax !== undefined) where.push(`progress <= ${param(filter.progressMax)}`);
  for (const word of filter.search?.toLowerCase().split(/\s+/) ?? []) {
    where.push(`lower(${SEARCHED}) LIKE ${param(`%${escapeLike(word)}%`)}`);
  }
  const states =
    filter.state === undefined ? [] : Array.isArray(filter.state) ? filter.state : [filter.state];
  if (filter.order === 'attention') {
    return { text: attentionQuery(filter, states, where, param), params };
  }
  if (filter.afterId !== undefined) where.push(`id > ${param(filter.afterId)}::uuid`);
  const limit = param(filter.limit);

  const page = (conditions: string[]) => `SELECT ${SUPERVISOR_COLUMNS} FROM supervisor_states
    ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
    ORDER BY id LIMIT ${limit}`;
  if (states.length <= 1) {
    const byState = states.map((state) => `state = ${param(state)}::supervisor_state`);
    return { text: page([...byState, ...where]), params };
  }
  // One id-ordered page per state, merged: each is served by the (state, id) index, where a
  // single scan with state = ANY(...) would have to sort or walk the primary key.
  const parts = states.map(
    (state) => `(${page([`state = ${param(state)}::supervisor_state`, ...where])})`,
  );
  return {
    text: `SELECT * FROM (${parts.join(' UNION ALL ')}) AS pages ORDER BY id LIMIT ${limit}`,
    params,
  };
}

/**
 * Attention groups, first to last, and whether a group is read newest first: what needs a
 * person, then what broke, then what runs, then what is over (the newest of it first).
 */
const ATTENTION: ReadonlyArray<{ states: LifecycleState[]; newestFirst: boolean }> = [
  { states: ['waiting_for_user'], newestFirst: false },
  { states: ['failed'], newestFirst: false },
  { states: ['initializing', 'working', 'waiting_for_tasks', 'paused'], newestFirst: false },
  { states: ['completed', 'cancelled'], newestFirst: true },
];

/**
 * The query text of a page in attention order: one branch per lifecycle state, each read
 * from the (state, state_entered_at) index in its group's direction and cut at the page's
 * size, then merged. After `afterId` means after that supervisor's place as it is now (one
 * that changed state meanwhile moves the cursor with it; one deleted meanwhile ends the
 * paging).
 */
function attentionQuery(
  filter: z.output<typeof FleetFilter>,
  states: readonly LifecycleState[],
  where: readonly string[],
  param: (value: unknown) => string,
): string {
  const groupOf = `CASE state ${ATTENTION.flatMap((g, i) => g.states.map((st) => `WHEN '${st}' THEN ${i}`)).join(' ')} END`;
  const limit = param(filter.limit);
  const anchor =
    filter.afterId === undefined
      ? ''
      : `WITH anchor AS MATERIALIZED (SELECT id, state_entered_at AS at, ${groupOf} AS g
           FROM supervisor_states WHERE id = ${param(filter.afterId)}::uuid) `;
  const branches = ATTENTION.flatMap((group, g) =>
    group.states
      .filter((state) => states.length === 0 || states.includes(state))
      .map((state) => {
        const after = group.newestFirst
          ? '(s.state_entered_at < a.at OR (s.state_entered_at = a.at AND s.id > a.id))'
          : '(s.state_entered_at, s.id) > (a.at, a.id)';
        const cursor = anchor
          ? [`EXISTS (SELECT 1 FROM anchor a WHERE ${g} > a.g OR (${g} = a.g AND ${after}))`]
          : [];
        const conditions = [`state = '${state}'::supervisor_state`, ...where, ...cursor];
        return `(SELECT ${SUPERVISOR_COLUMNS}, ${g} AS attention_group
          FROM supervisor_states s WHERE ${conditions.join(' AND ')}
          ORDER BY state_entered_at ${group.newestFirst ? 'DESC' : 'ASC'}, id LIMIT ${limit})`;
      }),
  );
  // Within a group, the oldest first (the newest first among the finished), then by id.
  return `${anchor}SELECT * FROM (${branches.join(' UNION ALL ')}) AS pages
    ORDER BY attention_group,
      CASE WHEN attention_group = ${ATTENTION.length - 1} THEN NULL ELSE state_entered_at END ASC,
      state_entered_at DESC, id
    LIMIT ${limit}`;
}

/**
 * Lists supervisors matching every given filter, in id order, one page at a time
 * (`afterId` = the last id of the previous page).
 *
 * @example
 * await listSupervisors(db, { state: 'waiting_for_user', stuckForMs: 3_600_000 });
 */
export async function listSupervisors(
  db: Queryable,
  filter: FleetFilter = {},
): Promise<SupervisorState[]> {
  const { text, params } = fleetQuery(filter);
  const { rows } = await db.query<SupervisorRow>(text, params);
  return rows.map(toSupervisorState);
}

/**
 * Supervisors with at least one pending question (the seed's
 * `get_supervisors_with_pending_questions`), matching every other given filter, in id
 * order, a page at a time: what `GET /questions` and the `questions.subscribe` catch-up
 * page through (they ask the host for `hasPendingQuestions: true`). The partial index on
 * `has_pending_questions` serves it.
 *
 * @example
 * await getSupervisorsWithPendingQuestions(db, { owner: 'alice', limit: 100 });
 */
export function getSupervisorsWithPendingQuestions(
  db: Queryable,
  filter: FleetFilter = {},
): Promise<SupervisorState[]> {
  return listSupervisors(db, { ...filter, hasPendingQuestions: true });
}

/**
 * How many supervisors are in each lifecycle state; every state is present (metrics, the
 * dashboard).
 */
export async function countByState(db: Queryable): Promise<Record<LifecycleState, number>> {
  const { rows } = await db.query<{ state: LifecycleState; count: string | number }>(
    'SELECT state, count(*) AS count FROM supervisor_states GROUP BY state',
  );
  const counts = Object.fromEntries(LIFECYCLE_STATES.map((state) => [state, 0])) as Record<
    LifecycleState,
    number
  >;
  for (const row of rows) counts[row.state] = Number(row.count);
  return counts;
}

/** How many questions are pending across the fleet (the partial index on pending rows serves it). */
export async function countPendingQuestions(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ count: string | number | null }>(
    `SELECT sum(jsonb_array_length(pending_questions)) AS count
       FROM supervisor_states WHERE has_pending_questions`,
  );
  return Number(rows[0]?.count ?? 0);
}

/** How many supervisors are in one lifecycle state and one state value. */
export interface StateValueCount {
  state: LifecycleState;
  stateValue: string;
  count: number;
}

/**
 * How many supervisors of a machine are in each state value (an owner's only, when given):
 * what the dashboard badges a statechart with.
 */
export async function countByStateValue(
  db: Queryable,
  machineId: string,
  owner?: string,
): Promise<StateValueCount[]> {
  const params: unknown[] = [machineId];
  if (owner !== undefined) params.push(owner);
  const { rows } = await db.query<{
    state: LifecycleState;
    state_value: string;
    count: string | number;
  }>(
    `SELECT state, state_value, count(*) AS count FROM supervisor_states
      WHERE machine_id = $1 ${owner === undefined ? '' : 'AND owner = $2'}
      GROUP BY state, state_value ORDER BY state, state_value`,
    params,
  );
  return rows.map((row) => ({
    state: row.state,
    stateValue: row.state_value,
    count: Number(row.count),
  }));
}

/** How long supervisors stayed in one state value, from the journal. */
export interface TimeInState {
  stateValue: string;
  /** The median of the stays that ended (left for another state), in milliseconds. */
  medianMs: number;
  /** How many stays that ended it counts. */
  stays: number;
}

/**
 * The median time supervisors of a machine (an owner's, when given) stayed in each state
 * value before leaving it, from the state values journal entries record: a stay starts at
 * the first entry in a value and ends at the first entry in another. Entries of the last
 * `sinceMs` only (default 30 days), so the read stays bounded on a long journal; a stay
 * still going is not counted (the fleet's `state_entered_at` says how long that one is).
 */
export async function timeInState(
  db: Queryable,
  machineId: string,
  owner?: string,
  sinceMs = 30 * 24 * 60 * 60 * 1000,
): Promise<TimeInState[]> {
  const params: unknown[] = [machineId, sinceMs];
  if (owner !== undefined) params.push(owner);
  const { rows } = await db.query<{
    state_value: string;
    median_ms: number | string;
    stays: number | string;
  }>(
    `WITH entries AS (
       SELECT e.id, e.supervisor_id, e.state_value, e.created_at,
              lag(e.state_value) OVER (PARTITION BY e.supervisor_id ORDER BY e.id) AS before
       FROM supervisor_events e JOIN supervisor_states s ON s.id = e.supervisor_id
       WHERE s.machine_id = $1 ${owner === undefined ? '' : 'AND s.owner = $3'}
         AND e.state_value IS NOT NULL
         AND e.created_at > now() - ($2::double precision * interval '1 millisecond')
     ), entered AS (
       SELECT state_value, created_at,
              lead(created_at) OVER (PARTITION BY supervisor_id ORDER BY id) AS left_at
       FROM entries WHERE before IS DISTINCT FROM state_value
     )
     SELECT state_value,
            percentile_cont(0.5) WITHIN GROUP (
              ORDER BY extract(epoch FROM left_at - created_at) * 1000) AS median_ms,
            count(*) AS stays
     FROM entered WHERE left_at IS NOT NULL
     GROUP BY state_value ORDER BY state_value`,
    params,
  );
  return rows.map((row) => ({
    stateValue: row.state_value,
    medianMs: Math.round(Number(row.median_ms)),
    stays: Number(row.stays),
  }));
}
