import type { Queryable } from './database.ts';

// The inbox of calls forwarded between nodes (migration 20261205000000). Each statement is
// one statement: a NOTIFY sent with pg_notify in the statement that writes the row goes out
// when that row commits, never before it.

/** The channel that wakes the owner of a slice: the payload is the slice. */
export const CALLS_CHANNEL = 'steward_forwarded_calls';
/** The channel that wakes the node waiting for a call's outcome: the payload is its id. */
export const OUTCOMES_CHANNEL = 'steward_forwarded_outcomes';

/** A call waiting for the owner of its supervisor. */
export interface PendingCall {
  id: number;
  supervisorId: string;
  /** As written by the caller's node; the owner checks it before executing it. */
  call: unknown;
  fromNode: string;
  createdAt: Date;
}

/** What the forwarding between nodes (src/runtime/forwarding/) needs of the database. */
export interface ForwardedCallStore {
  /** Writes a call and wakes the owner of its slice once it commits; returns its id. */
  insert(supervisorId: string, call: unknown, fromNode: string): Promise<number>;
  /**
   * Claims for `nodeId` the calls not done for supervisors of these slices, oldest first,
   * but those of `running` (begun here already): from then on their callers cannot withdraw
   * them. One statement, so a call is either withdrawn or claimed, never both.
   */
  claimPending(
    slices: readonly number[],
    nodeId: string,
    running: readonly number[],
    limit: number,
  ): Promise<PendingCall[]>;
  /** Records the outcome and wakes the caller's node once it commits. */
  complete(id: number, outcome: unknown): Promise<void>;
  /** The outcomes of those of these calls that are done (tests, tools). */
  outcomes(ids: readonly number[]): Promise<Map<number, unknown>>;
  /** Deletes those of these calls that are done, returning their outcomes: what a caller reads. */
  takeOutcomes(ids: readonly number[]): Promise<Map<number, unknown>>;
  /** Deletes a call nobody began: true when it was deleted (then it is never applied). */
  withdraw(id: number): Promise<boolean>;
  /** Deletes calls done longer ago than `olderThanMs` (their caller went away). */
  sweep(olderThanMs: number): Promise<number>;
}

/** The inbox on `db`. */
export function createForwardedCallStore(db: Queryable): ForwardedCallStore {
  return {
    async insert(supervisorId, call, fromNode) {
      const { rows } = await db.query<{ id: string }>(
        `WITH written AS (
           INSERT INTO forwarded_calls (supervisor_id, call, from_node)
           VALUES ($1, $2::jsonb, $3) RETURNING id, slice
         )
         SELECT id, pg_notify('${CALLS_CHANNEL}', slice::text) FROM written`,
        [supervisorId, JSON.stringify(call), fromNode],
      );
      return Number(rows[0]?.id);
    },
    async claimPending(slices, nodeId, running, limit) {
      if (slices.length === 0) return [];
      const { rows } = await db.query<{
        id: string;
        supervisor_id: string;
        call: unknown;
        from_node: string;
        created_at: Date | string;
      }>(
        `UPDATE forwarded_calls SET claimed_by = $2
          WHERE id IN (
            SELECT id FROM forwarded_calls
             WHERE done_at IS NULL AND slice = ANY($1::smallint[]) AND NOT (id = ANY($3::bigint[]))
             ORDER BY id LIMIT $4
               FOR UPDATE SKIP LOCKED)
          RETURNING id, supervisor_id, call, from_node, created_at`,
        [slices, nodeId, running, limit],
      );
      return rows
        .map((row) => ({
          id: Number(row.id),
          supervisorId: row.supervisor_id,
          call: row.call,
          fromNode: row.from_node,
          createdAt: new Date(row.created_at),
        }))
        .sort((a, b) => a.id - b.id);
    },
    async complete(id, outcome) {
      await db.query(
        `WITH done AS (
           UPDATE forwarded_calls SET outcome = $2::jsonb, done_at = now()
            WHERE id = $1 AND done_at IS NULL RETURNING id
         )
         SELECT pg_notify('${OUTCOMES_CHANNEL}', id::text) FROM done`,
        [id, JSON.stringify(outcome)],
      );
    },
    async outcomes(ids) {
      const found = new Map<number, unknown>();
      if (ids.length === 0) return found;
      const { rows } = await db.query<{ id: string; outcome: unknown }>(
        `SELECT id, outcome FROM forwarded_calls
          WHERE id = ANY($1::bigint[]) AND done_at IS NOT NULL`,
        [ids],
      );
      for (const row of rows) found.set(Number(row.id), row.outcome);
      return found;
    },
    async takeOutcomes(ids) {
      const found = new Map<number, unknown>();
      if (ids.length === 0) return found;
      const { rows } = await db.query<{ id: string; outcome: unknown }>(
        `DELETE FROM forwarded_calls
          WHERE id = ANY($1::bigint[]) AND done_at IS NOT NULL RETURNING id, outcome`,
        [ids],
      );
      for (const row of rows) found.set(Number(row.id), row.outcome);
      return found;
    },
    async withdraw(id) {
      const { rowCount } = await db.query(
        'DELETE FROM forwarded_calls WHERE id = $1 AND claimed_by IS NULL AND done_at IS NULL',
        [id],
      );
      return rowCount === 1;
    },
    async sweep(olderThanMs) {
      const { rowCount } = await db.query(
        `DELETE FROM forwarded_calls
          WHERE done_at IS NOT NULL AND done_at < now() - $1 * interval '1 millisecond'`,
        [olderThanMs],
      );
      return rowCount;
    },
  };
}
