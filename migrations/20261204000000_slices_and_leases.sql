-- Several runtime nodes on one database. Every supervisor belongs to one of 256 slices (the
-- first byte of its id, fixed here for good); a node acts for a supervisor only while it
-- holds the lease of its slice, and writes under the lease's epoch, which every take of the
-- slice increments, so that a node that lost a slice writes nothing that wins.
ALTER TABLE supervisor_states
  ADD COLUMN slice smallint GENERATED ALWAYS AS (get_byte(uuid_send(id), 0)) STORED;

-- What a node restores when it takes slices: the unfinished supervisors of those slices.
CREATE INDEX supervisor_states_slice_idx ON supervisor_states (slice, id)
  WHERE state NOT IN ('completed', 'failed', 'cancelled');

CREATE TABLE runtime_nodes (
  node_id      text PRIMARY KEY,
  address      text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- One row per slice, for good: a lease is taken or renewed by one conditional UPDATE, always
-- against the database's clock (never a node's).
CREATE TABLE slice_leases (
  slice      smallint PRIMARY KEY CHECK (slice BETWEEN 0 AND 255),
  node_id    text,
  epoch      bigint NOT NULL DEFAULT 0,
  expires_at timestamptz
);
INSERT INTO slice_leases (slice) SELECT generate_series(0, 255);
