-- What a restart needs to know without reading snapshots: whether a supervisor must run at
-- once (work in flight: a task pending or running, an invoked or spawned actor alive) and
-- when its next delayed event is due. Both are derived from the snapshot at every save and
-- written only with it. A supervisor with neither, waiting for a person, is restored on its
-- first touch instead of at start.
ALTER TABLE supervisor_states
  ADD COLUMN next_timer_at timestamptz,
  ADD COLUMN work_in_flight boolean NOT NULL DEFAULT false;

-- Rows written before this migration: their stored timers give the deadline; work in flight
-- is unknown, so every unfinished one is taken as having some (restored at start, as
-- before, and rewritten with the truth at its next save).
UPDATE supervisor_states
SET next_timer_at = (
      SELECT to_timestamp(min((t ->> 'dueAt')::double precision) / 1000)
      FROM jsonb_array_elements(timers) AS t
    ),
    work_in_flight = state NOT IN ('completed', 'failed', 'cancelled');

-- The wake-up of a deferred supervisor whose timer comes due, without a scan.
CREATE INDEX supervisor_states_next_timer_idx ON supervisor_states (next_timer_at)
  WHERE next_timer_at IS NOT NULL AND state NOT IN ('completed', 'failed', 'cancelled');
-- Who must run at start.
CREATE INDEX supervisor_states_work_in_flight_idx ON supervisor_states (id)
  WHERE work_in_flight AND state NOT IN ('completed', 'failed', 'cancelled');
