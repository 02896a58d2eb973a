import type { Queryable } from './database.ts';

/**
 * How many starts are kept: a question pending over more restarts than this has a
 * `deliveryCount` that stops growing with them, and the table stays small.
 */
export const KEPT_RUNTIME_STARTS = 1_000;

/**
 * Records that a runtime process starts on this database at `at` (before it restores
 * anything) and returns when every process started, this one included, oldest first: a
 * question asked before a start was already sent by an earlier process, which is how its
 * `deliveryCount` survives a restart. One statement: the list read includes the new row.
 * Starts beyond the newest `keep` are deleted first.
 *
 * @example
 * const starts = await recordRuntimeStart(db, new Date());
 * startServer({ ...options, runtimeStarts: starts });
 */
export async function recordRuntimeStart(
  db: Queryable,
  at: Date,
  keep = KEPT_RUNTIME_STARTS,
): Promise<Date[]> {
  // The new row is one of the kept: `keep - 1` older ones stay with it.
  await db.query(
    `DELETE FROM runtime_starts WHERE id NOT IN
       (SELECT id FROM runtime_starts ORDER BY started_at DESC, id DESC LIMIT $1)`,
    [Math.max(0, keep - 1)],
  );
  const { rows } = await db.query<{ started_at: Date }>(
    // A statement does not see the rows its own CTE inserts: the new one is added by hand.
    `WITH added AS (
       INSERT INTO runtime_starts (started_at) VALUES ($1) RETURNING started_at
     )
     SELECT started_at FROM runtime_starts
     UNION ALL SELECT started_at FROM added
     ORDER BY started_at`,
    [at],
  );
  return rows.map((row) => new Date(row.started_at));
}
