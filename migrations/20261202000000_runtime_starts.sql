-- When each runtime process started on this database, so that a question's deliveryCount
-- does not start again at 1 after a restart: a question asked before a start was sent by
-- an earlier process, and each start since it was asked counts (see docs/protocol.md).
-- One row per process start, written before it restores anything.
CREATE TABLE runtime_starts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at timestamptz NOT NULL
);
