import { z } from 'zod';
import { LifecycleState, type SupervisorState } from '../model/supervisor.ts';
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
  /** Keyset pagination: only ids after this one. */
  afterId: z.uuid().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type FleetFilter = z.input<typeof FleetFilter>;

/** Escapes LIKE wildcards so a state path is matched literally as a prefix. */
function likePrefix(value: string): string {
  return `${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Builds the WHERE clause and parameters for a filter. Exported for EXPLAIN in tests. */
export function fleetQuery(input: FleetFilter): { text: string; params: unknown[] } {
  const filter = FleetFilter.parse(input);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (filter.state !== undefined) {
    const states = Array.isArray(filter.state) ? filter.state : [filter.state];
    add((p) => `state = ANY (${p}::supervisor_state[])`, states);
  }
  if (filter.stateValue !== undefined) {
    params.push(filter.stateValue, likePrefix(`${filter.stateValue}.`));
    where.push(`(state_value = $${params.length - 1} OR state_value LIKE $${params.length})`);
  }
  if (filter.tag !== undefined) add((p) => `tags @> ARRAY[${p}::text]`, filter.tag);
  if (filter.owner !== undefined) add((p) => `owner = ${p}`, filter.owner);
  if (filter.machineId !== undefined) add((p) => `machine_id = ${p}`, filter.machineId);
  if (filter.hasPendingQuestions === true) where.push(`pending_questions <> '[]'::jsonb`);
  if (filter.hasPendingQuestions === false) where.push(`pending_questions = '[]'::jsonb`);
  if (filter.stuckForMs !== undefined) {
    add(
      (p) => `state_entered_at < now() - make_interval(secs => ${p}::double precision / 1000)`,
      filter.stuckForMs,
    );
  }
  if (filter.progressMin !== undefined) add((p) => `progress >= ${p}`, filter.progressMin);
  if (filter.progressMax !== undefined) add((p) => `progress <= ${p}`, filter.progressMax);
  if (filter.afterId !== undefined) add((p) => `id > ${p}::uuid`, filter.afterId);
  params.push(filter.limit);
  const text = `SELECT ${SUPERVISOR_COLUMNS} FROM supervisor_states
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY id LIMIT $${params.length}`;
  return { text, params };
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
