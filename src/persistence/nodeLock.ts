// A node's presence among several on one PostgreSQL: a lock of its own, held on the
// connection of its claim (pgDatabase.ts) for as long as it runs, and read by the others
// (sliceLeases.ts) to tell a node whose session is gone from one that is only slow.

/**
 * The first key of a node's own lock (`pg_advisory_lock(int, int)`, a key space apart from
 * the bigint ones); the second is `hashtext(node_id)`. Held on the claim's connection for
 * as long as the node runs: see `nodePresenceFreeSql`.
 */
export const NODE_LOCK_CLASS = 742_000_002;

/**
 * True when the session of node `nodeIdSql` (an SQL expression) is gone: nobody holds its
 * node lock. Held until the end of the transaction once taken, so a node cannot claim its
 * lock again in the middle of a statement that found it gone.
 */
export function nodePresenceFreeSql(nodeIdSql: string): string {
  return `pg_try_advisory_xact_lock(${NODE_LOCK_CLASS}, hashtext(${nodeIdSql}))`;
}
