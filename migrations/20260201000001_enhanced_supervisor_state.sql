-- The seed's migration: detailed supervisor state, pending questions, spawned tasks and
-- restoration tracking. Every column is derived from the snapshot when it is written.

CREATE TYPE supervisor_state AS ENUM (
  'initializing',
  'working',
  'waiting_for_user',
  'waiting_for_tasks',
  'paused',
  'completed',
  'failed',
  'cancelled'
);

ALTER TABLE supervisor_states
  ADD COLUMN state              supervisor_state NOT NULL DEFAULT 'initializing',
  ADD COLUMN current_activity   text,
  ADD COLUMN progress           smallint NOT NULL DEFAULT 0
                                CONSTRAINT supervisor_states_progress_range CHECK (progress BETWEEN 0 AND 100),
  ADD COLUMN error_message      text,
  ADD COLUMN spawned_task_ids   uuid[] NOT NULL DEFAULT '{}',
  ADD COLUMN pending_questions  jsonb NOT NULL DEFAULT '[]'
                                CONSTRAINT supervisor_states_pending_questions_array
                                CHECK (jsonb_typeof(pending_questions) = 'array'),
  ADD COLUMN restoration_count  integer NOT NULL DEFAULT 0 CHECK (restoration_count >= 0),
  ADD COLUMN last_restored_at   timestamptz,
  ADD COLUMN restoration_source text
                                CHECK (restoration_source IN ('restart', 'failover', 'manual', 'checkpoint'));

-- Supervisors waiting for an answer: re-delivered after every restore.
CREATE INDEX supervisor_states_pending_questions_idx
  ON supervisor_states (id) WHERE pending_questions <> '[]'::jsonb;

-- Fleet queries by lifecycle state, oldest change first ("stuck longer than").
CREATE INDEX supervisor_states_state_idx ON supervisor_states (state, updated_at);

-- Supervisors to restore at start: everything not terminal.
CREATE INDEX supervisor_states_restorable_idx
  ON supervisor_states (id) WHERE state NOT IN ('completed', 'failed', 'cancelled');
