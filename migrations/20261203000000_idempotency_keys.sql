-- Idempotency keys (the HTTP API's Idempotency-Key) live in the payload of the journal entry
-- committed with their command's effect, so a key is durable exactly when its effect is, and
-- a supervisor deleted by retention takes its keys with its journal. A repeat looks its key
-- up here before anything is executed. Not unique: one runtime per database single-flights
-- its keys in process; a second node on the same database would need a unique index on
-- (principal, key) and would have to settle on its violation.
CREATE INDEX supervisor_events_idempotency_key_idx ON supervisor_events
  ((payload->>'idempotencyKey'))
  WHERE payload->>'idempotencyKey' IS NOT NULL;
