import type { SliceLease } from '../model/slices.ts';
import type { Database, Queryable } from './database.ts';
import { nodePresenceFreeSql } from './nodeLock.ts';

// Every statement here is one statement, so a take or a renew is atomic without
// BEGIN/COMMIT and has no read-then-write window, and every time is the database's clock
// (`now()`): nodes' clocks need not agree, and a lease means the same to all of them.

/** A runtime process sharing the database, as its latest heartbeat left it. */
export interface RuntimeNode {
  nodeId: string;
  /** Where other nodes reach it (its HTTP address), if it said. */
  address: string | null;
  startedAt: Date;
  heartbeatAt: Date;
  /** How many slices it holds under a lease not yet expired. */
  slices: number;
}

/** Which nodes count as alive, and when a dead one's row is deleted. */
export interface NodeLiveness {
  /** A node whose heartbeat is older than this is not alive. */
  staleAfterMs: number;
  /** A node whose heartbeat is older than this is deleted (a restarted node is a new one). */
  forgetAfterMs: number;
}

/** A lease the database granted or renewed. */
export interface GrantedLease extends SliceLease {
  /** When the lease ends, by the database's clock. */
  expiresAt: Date;
  /**
   * `expiresAt` minus the database's time of the statement: how long the lease lasts from
   * when the statement ran, which a node adds to its own clock at the moment it SENT the
   * statement, so that its deadline is earlier than the real one whatever the clocks say.
   */
  validForMs: number;
}

/** A slice taken by a node: a new epoch, and who held it before. */
export interface TakenSlice extends GrantedLease {
  /** The node whose lease expired, or `null` for a free slice (released or never held). */
  previousNode: string | null;
  /**
   * True when the slice was taken from a lease that expired: its holder died, paused or
   * was cut off, and its supervisors are restored as a failover. False after a clean
   * hand-off (released after the holder flushed them).
   */
  wasExpired: boolean;
}

/**
 * The slice leases of several runtime nodes on one database: what the lease keeper
 * (src/runtime/cluster/leaseKeeper.ts) needs, and nothing more.
 */
export interface SliceLeaseStore {
  /** Records a node starting (or its address changing). */
  registerNode(nodeId: string, address: string | null): Promise<void>;
  /**
   * The node's heartbeat: records it (again, if its row was forgotten while it was cut
   * off), deletes nodes dead for longer than `forgetAfterMs`, and returns the nodes alive,
   * this one included, by node id.
   */
  heartbeatNode(
    nodeId: string,
    address: string | null,
    liveness: NodeLiveness,
  ): Promise<RuntimeNode[]>;
  /** Deletes a node's row (a clean stop). Its leases are released separately. */
  removeNode(nodeId: string): Promise<void>;
  /** The nodes whose heartbeat is younger than `staleAfterMs`, by node id. */
  aliveNodes(staleAfterMs: number): Promise<RuntimeNode[]>;
  /**
   * Extends the leases the node still holds under the same epoch and that have not
   * expired, to `ttlMs` from now; returns those renewed. An expired lease is not renewed
   * even if nobody took it yet: its holder has stopped acting for it (its own deadline was
   * earlier) and must take it again, under a new epoch, to restore its supervisors.
   */
  renewLeases(nodeId: string, held: readonly SliceLease[], ttlMs: number): Promise<GrantedLease[]>;
  /**
   * Takes up to `max` slices that are free or whose lease expired, lowest first, for
   * `ttlMs`, each under its epoch plus one. Rows another node is taking, renewing under a
   * lock or fencing a commit with are skipped, never waited for: two nodes taking at
   * once never take the same slice.
   */
  takeSlices(nodeId: string, max: number, ttlMs: number): Promise<TakenSlice[]>;
  /**
   * Frees the slices the node still holds under the given epochs (expired or not, as long
   * as nobody took them); returns the slices freed.
   */
  releaseSlices(nodeId: string, leases: readonly SliceLease[]): Promise<number[]>;
  /**
   * For nodes that hold their presence lock (`Database.claimRuntime` with a node id): ends
   * the leases of every other node whose session is gone (its lock free: the process died
   * or its connection closed) and deletes its row, so its slices are taken at once rather
   * than after the TTL. Returns the nodes found gone.
   */
  expireDeparted(nodeId: string): Promise<string[]>;
  /**
   * Ends every lease still recorded under `nodeId`, which acts for none of them any more
   * (it lost its session and dropped them): so it can take them again, under new epochs,
   * without waiting for them to expire. Returns how many there were.
   */
  expireLeasesOf(nodeId: string): Promise<number>;
}

/** `ms` of a numeric parameter as an interval. */
const millis = (param: string) => `(${param}::double precision * interval '1 millisecond')`;

// validForMs: extract() of an interval is numeric, which the drivers return as a string.
const GRANTED = `l.slice, l.epoch, l.expires_at,
  (extract(epoch FROM l.expires_at - now()) * 1000)::double precision AS valid_for_ms`;

/** A lease row as granted, as the drivers return it (bigint may arrive as a string). */
interface GrantedRow {
  slice: number;
  epoch: string | number;
  expires_at: Date;
  valid_for_ms: number;
}

function toGranted(row: GrantedRow): GrantedLease {
  return {
    slice: row.slice,
    epoch: Number(row.epoch),
    expiresAt: new Date(row.expires_at),
    validForMs: Number(row.valid_for_ms),
  };
}

interface NodeRow {
  node_id: string;
  address: string | null;
  started_at: Date;
  heartbeat_at: Date;
  slices: string | number;
}

function toNode(row: NodeRow): RuntimeNode {
  return {
    nodeId: row.node_id,
    address: row.address,
    startedAt: new Date(row.started_at),
    heartbeatAt: new Date(row.heartbeat_at),
    slices: Number(row.slices),
  };
}

/** The nodes of `source` with how many unexpired leases each holds. */
const withSlices = (source: string) => `
  SELECT n.node_id, n.address, n.started_at, n.heartbeat_at,
         (SELECT count(*) FROM slice_leases l
          WHERE l.node_id = n.node_id AND l.expires_at > now()) AS slices
  FROM ${source} n ORDER BY n.node_id`;

export async function registerNode(
  db: Queryable,
  nodeId: string,
  address: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO runtime_nodes (node_id, address) VALUES ($1, $2)
     ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, heartbeat_at = now()`,
    [nodeId, address],
  );
}

export async function heartbeatNode(
  db: Queryable,
  nodeId: string,
  address: string | null,
  liveness: NodeLiveness,
): Promise<RuntimeNode[]> {
  // The statement's snapshot does not see its own upsert: the node's row comes from
  // RETURNING, the others from the table. A forgotten row is old enough not to be alive,
  // so deleting it in the same snapshot changes nothing of the list.
  const { rows } = await db.query<NodeRow>(
    `WITH beat AS (
       INSERT INTO runtime_nodes (node_id, address) VALUES ($1, $2)
       ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now(), address = excluded.address
       RETURNING node_id, address, started_at, heartbeat_at
     ), forgotten AS (
       DELETE FROM runtime_nodes WHERE node_id <> $1 AND heartbeat_at < now() - ${millis('$4')}
     ), alive AS (
       SELECT node_id, address, started_at, heartbeat_at FROM runtime_nodes
       WHERE node_id <> $1 AND heartbeat_at > now() - ${millis('$3')}
       UNION ALL SELECT node_id, address, started_at, heartbeat_at FROM beat
     )${withSlices('alive')}`,
    [nodeId, address, liveness.staleAfterMs, liveness.forgetAfterMs],
  );
  return rows.map(toNode);
}

export async function removeNode(db: Queryable, nodeId: string): Promise<void> {
  await db.query('DELETE FROM runtime_nodes WHERE node_id = $1', [nodeId]);
}

export async function aliveNodes(db: Queryable, staleAfterMs: number): Promise<RuntimeNode[]> {
  const { rows } = await db.query<NodeRow>(
    `WITH alive AS (
       SELECT * FROM runtime_nodes WHERE heartbeat_at > now() - ${millis('$1')}
     )${withSlices('alive')}`,
    [staleAfterMs],
  );
  return rows.map(toNode);
}

export async function renewLeases(
  db: Queryable,
  nodeId: string,
  held: readonly SliceLease[],
  ttlMs: number,
): Promise<GrantedLease[]> {
  if (held.length === 0) return [];
  // A plain UPDATE locks FOR NO KEY UPDATE, which does not wait for the FOR KEY SHARE of
  // a fenced commit: renewing never stalls behind this node's own writes. It does wait
  // for a take in progress (FOR UPDATE), then re-checks the row and finds it taken.
  const { rows } = await db.query<GrantedRow>(
    `UPDATE slice_leases l SET expires_at = now() + ${millis('$4')}
     FROM unnest($2::smallint[], $3::bigint[]) AS h (slice, epoch)
     WHERE l.slice = h.slice AND l.epoch = h.epoch AND l.node_id = $1 AND l.expires_at > now()
     RETURNING ${GRANTED}`,
    [nodeId, held.map((l) => l.slice), held.map((l) => l.epoch), ttlMs],
  );
  return rows.map(toGranted).sort((a, b) => a.slice - b.slice);
}

export async function takeSlices(
  db: Queryable,
  nodeId: string,
  max: number,
  ttlMs: number,
): Promise<TakenSlice[]> {
  if (max <= 0) return [];
  // FOR UPDATE SKIP LOCKED: a row another node is taking is passed over, so two takers
  // get disjoint slices; it also conflicts with the FOR KEY SHARE of a fenced commit in
  // flight, so a slice is never taken in the middle of its holder's write. The candidate
  // row is the locked (newest) version: a renew committed since the statement began is
  // seen, re-checked and left alone, and `previous` is the holder as of the take.
  const { rows } = await db.query<GrantedRow & { previous_node: string | null }>(
    `WITH previous AS (
       SELECT slice, node_id FROM slice_leases
       WHERE node_id IS NULL OR expires_at IS NULL OR expires_at <= now()
       ORDER BY slice LIMIT $2
       FOR UPDATE SKIP LOCKED
     )
     UPDATE slice_leases l
     SET node_id = $1, epoch = l.epoch + 1, expires_at = now() + ${millis('$3')}
     FROM previous p WHERE l.slice = p.slice
     RETURNING ${GRANTED}, p.node_id AS previous_node`,
    [nodeId, max, ttlMs],
  );
  return rows
    .map((row) => ({
      ...toGranted(row),
      previousNode: row.previous_node,
      wasExpired: row.previous_node !== null,
    }))
    .sort((a, b) => a.slice - b.slice);
}

export async function releaseSlices(
  db: Queryable,
  nodeId: string,
  leases: readonly SliceLease[],
): Promise<number[]> {
  if (leases.length === 0) return [];
  const { rows } = await db.query<{ slice: number }>(
    `UPDATE slice_leases l SET node_id = NULL, expires_at = NULL
     FROM unnest($2::smallint[], $3::bigint[]) AS h (slice, epoch)
     WHERE l.slice = h.slice AND l.epoch = h.epoch AND l.node_id = $1
     RETURNING l.slice`,
    [nodeId, leases.map((l) => l.slice), leases.map((l) => l.epoch)],
  );
  return rows.map((row) => row.slice).sort((a, b) => a - b);
}

export async function expireDeparted(db: Queryable, nodeId: string): Promise<string[]> {
  // The lock taken on a departed node's key is held to the end of this statement, so that
  // node cannot come back half-way through it; a live node's lock is held by its session.
  const { rows } = await db.query<{ node_id: string }>(
    `WITH departed AS (
       SELECT node_id FROM runtime_nodes
       WHERE node_id <> $1 AND ${nodePresenceFreeSql('node_id')}
     ), ended AS (
       UPDATE slice_leases SET expires_at = now()
       WHERE node_id IN (SELECT node_id FROM departed) AND expires_at > now()
     )
     DELETE FROM runtime_nodes WHERE node_id IN (SELECT node_id FROM departed)
     RETURNING node_id`,
    [nodeId],
  );
  return rows.map((row) => row.node_id).sort();
}

export async function expireLeasesOf(db: Queryable, nodeId: string): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE slice_leases SET expires_at = now() WHERE node_id = $1 AND expires_at > now()',
    [nodeId],
  );
  return rowCount ?? 0;
}

/**
 * The condition a write for a supervisor must meet, in the same statement as the write:
 * the node still holds the slice, under the epoch the write carries, and the lease has not
 * expired. Each argument is an SQL expression: the row's slice (`s.slice`, or
 * `sliceOfIdSql('r.id')` for a row not inserted yet), the node id and the epoch parameters.
 *
 * FOR KEY SHARE is what makes it a fence and not a read: it conflicts with the FOR UPDATE
 * of a take, so a take either commits first (then the lock waits, re-reads the lease row
 * and finds another node or epoch: the write is refused) or finds the row locked and
 * skips the slice until the write is done. Without the lock, a write whose statement began
 * just before a take would still see the old lease and land after the new holder read the
 * row. It does not conflict with a renew (FOR NO KEY UPDATE), so writes never wait for one.
 *
 * @example
 * // The rows of a commit that may be written: each carries the epoch its node holds.
 * const fenced = `SELECT r.* FROM jsonb_to_recordset($2::jsonb) AS r (id uuid, epoch bigint)
 *   WHERE ${leaseFenceSql({ slice: sliceOfIdSql('r.id'), nodeId: '$1', epoch: 'r.epoch' })}`;
 */
export function leaseFenceSql(at: { slice: string; nodeId: string; epoch: string }): string {
  return `EXISTS (SELECT 1 FROM slice_leases l
    WHERE l.slice = ${at.slice} AND l.node_id = ${at.nodeId}::text AND l.epoch = ${at.epoch}::bigint
      AND l.expires_at > now()
    FOR KEY SHARE OF l)`;
}

/**
 * The slice of a supervisor id, as SQL: the expression of the generated column
 * `supervisor_states.slice` (and of `sliceOf` in src/model/slices.ts), for a row the
 * statement has not written yet.
 */
export function sliceOfIdSql(id: string): string {
  return `(get_byte(uuid_send(${id}), 0) # get_byte(uuid_send(${id}), 15))::smallint`;
}

/** The slice lease store over a database. */
export function createSliceLeaseStore(db: Database): SliceLeaseStore {
  return {
    registerNode: (nodeId, address) => registerNode(db, nodeId, address),
    heartbeatNode: (nodeId, address, liveness) => heartbeatNode(db, nodeId, address, liveness),
    removeNode: (nodeId) => removeNode(db, nodeId),
    aliveNodes: (staleAfterMs) => aliveNodes(db, staleAfterMs),
    renewLeases: (nodeId, held, ttlMs) => renewLeases(db, nodeId, held, ttlMs),
    takeSlices: (nodeId, max, ttlMs) => takeSlices(db, nodeId, max, ttlMs),
    releaseSlices: (nodeId, leases) => releaseSlices(db, nodeId, leases),
    expireDeparted: (nodeId) => expireDeparted(db, nodeId),
    expireLeasesOf: (nodeId) => expireLeasesOf(db, nodeId),
  };
}
