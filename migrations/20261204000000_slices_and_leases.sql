-- Several runtime nodes on one database (DESIGN.md, "Scale out"): every supervisor belongs
-- to one of 256 slices, and a node acts for a supervisor only while it holds the lease of
-- its slice. The number of slices is fixed here: changing it moves every supervisor.

-- The slice of a supervisor, derived from its id by the database so that no writer can
-- get it wrong. The first byte of the id XOR its last: the first alone is the top of the
-- timestamp in a time-ordered id (UUIDv7, which PostgreSQL 18 generates and a caller may
-- pass as the id), which would put every supervisor of a month in one slice; the last
-- alone is the node of a UUIDv1, one slice per machine. Random (v4) ids spread either way.
-- `sliceOf` in src/model/slices.ts computes the same in the runtime. Both functions are
-- immutable, on PostgreSQL and PGlite alike. Adding a stored column rewrites the table
-- under an exclusive lock: run this migration before the fleet is large.
ALTER TABLE supervisor_states
  ADD COLUMN slice smallint NOT NULL
  GENERATED ALWAYS AS ((get_byte(uuid_send(id), 0) # get_byte(uuid_send(id), 15))::smallint) STORED;

-- What a node restores when it takes slices: the unfinished supervisors of those slices,
-- paged by (slice, id). The restorable index on (id) alone would read every unfinished
-- supervisor of the fleet to find a node's share of them.
CREATE INDEX supervisor_states_slice_restorable_idx ON supervisor_states (slice, id)
  WHERE state NOT IN ('completed', 'failed', 'cancelled');

-- The runtime processes sharing this database. A restarted process registers as a new
-- node; a row whose heartbeat is old is a node that died, and is forgotten after a while.
-- Times are the database's clock, never a node's: nodes' clocks need not agree.
CREATE TABLE runtime_nodes (
  node_id      text PRIMARY KEY,
  address      text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Who holds each slice, until when, and under which epoch. A take increments the epoch, so
-- a node's writes carry the epoch it took the slice under and the commit refuses any
-- other: a node that paused past its expiry writes nothing that wins. Free when node_id is
-- NULL. No foreign key to runtime_nodes: a lease outlives the row of a node that died, and
-- expires on its own time.
CREATE TABLE slice_leases (
  slice      smallint PRIMARY KEY CHECK (slice BETWEEN 0 AND 255),
  node_id    text,
  epoch      bigint NOT NULL DEFAULT 0,
  expires_at timestamptz
);

INSERT INTO slice_leases (slice) SELECT generate_series(0, 255);
