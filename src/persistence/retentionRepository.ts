import type { Database, Queryable } from './database.ts';

/** How deleting one finished supervisor went. */
export type DeleteOutcome = 'deleted' | 'not-finished' | 'not-found';

/** Deletes finished supervisors and everything of theirs: retention. */
export interface RetentionStore {
  /**
   * Deletes up to `limit` supervisors finished (completed, failed or cancelled) before
   * `finishedBefore`, oldest first, with their journal, checkpoints and task rows; resolves
   * the ids deleted. Rows another transaction holds are skipped, not waited for.
   */
  deleteFinished(finishedBefore: Date, limit: number): Promise<string[]>;
  /** Deletes one supervisor if it is finished; says why not otherwise. */
  deleteOne(id: string): Promise<DeleteOutcome>;
}

const FINISHED = `state IN ('completed', 'failed', 'cancelled')`;

/**
 * One batch of retention. The journal goes with its supervisor by a statement trigger, and
 * checkpoints and task rows by their foreign keys, all in this statement. The order and
 * the limit come from the (state, state_entered_at) index: a finished supervisor's state
 * was entered when it finished.
 */
export async function deleteFinishedSupervisors(
  db: Queryable,
  finishedBefore: Date,
  limit: number,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH doomed AS (
       SELECT id FROM supervisor_states
       WHERE ${FINISHED} AND state_entered_at < $1
       ORDER BY state_entered_at
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     )
     DELETE FROM supervisor_states s USING doomed WHERE s.id = doomed.id
     RETURNING s.id`,
    [finishedBefore, limit],
  );
  return rows.map((row) => row.id);
}

/**
 * A retry of a failed or cancelled supervisor begins: its state is entered anew, so that a
 * retention sweep passes it over from the commit of this statement (the sweep's lock
 * skips it before, its re-check of the age after), and the retry's first write can never
 * put back a row retention deleted under it. False when it is not failed or cancelled any
 * more (deleted, or retried by another call).
 */
export async function claimForRetry(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE supervisor_states SET state_entered_at = now()
     WHERE id = $1 AND state IN ('failed', 'cancelled') RETURNING id`,
    [id],
  );
  return rows.length === 1;
}

/** Deletes one finished supervisor (`DELETE /supervisors/:id`). */
export async function deleteFinishedSupervisor(db: Queryable, id: string): Promise<DeleteOutcome> {
  const { rows } = await db.query<{ deleted: boolean; found: boolean }>(
    `WITH gone AS (
       DELETE FROM supervisor_states WHERE id = $1 AND ${FINISHED} RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM gone) AS deleted,
            EXISTS (SELECT 1 FROM supervisor_states WHERE id = $1) AS found`,
    [id],
  );
  const row = rows[0];
  if (row?.deleted) return 'deleted';
  return row?.found ? 'not-finished' : 'not-found';
}

/** The retention store over a database. */
export function createRetentionStore(db: Database): RetentionStore {
  return {
    deleteFinished: (finishedBefore, limit) => deleteFinishedSupervisors(db, finishedBefore, limit),
    deleteOne: (id) => deleteFinishedSupervisor(db, id),
  };
}
