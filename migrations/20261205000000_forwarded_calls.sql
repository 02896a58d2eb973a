-- Calls for a supervisor owned by another node (DESIGN.md, "Scale out"): the node a client
-- reached writes the call here, committed, and wakes the owner with a NOTIFY; the owner
-- executes it (polling finds it too, should the NOTIFY be lost), writes the outcome after
-- the call's own commit, and wakes the caller's node, which acks. A row is deleted once
-- its caller has the outcome, or by the owner a while after it was done.
CREATE TABLE forwarded_calls (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  supervisor_id uuid NOT NULL,
  -- The slice of the supervisor (as supervisor_states.slice): the owner reads its slices'.
  slice         smallint NOT NULL
    GENERATED ALWAYS AS ((get_byte(uuid_send(supervisor_id), 0) # get_byte(uuid_send(supervisor_id), 15))::smallint) STORED,
  -- What to call: { kind, ... } (src/runtime/forwarding/forwardedCall.ts).
  call          jsonb NOT NULL,
  from_node     text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- The node that began executing it: from then on the caller cannot withdraw it.
  claimed_by    text,
  -- { result } or { error: { code, message, details } }, written once it is done.
  outcome       jsonb,
  done_at       timestamptz
);

CREATE INDEX forwarded_calls_pending_idx ON forwarded_calls (slice, id) WHERE done_at IS NULL;
CREATE INDEX forwarded_calls_done_idx ON forwarded_calls (done_at) WHERE done_at IS NOT NULL;
