-- Fleet queries: where each supervisor is in its machine and since when, and its
-- non-lifecycle tags, so "stuck in a state longer than" and "in state X" are indexed.

ALTER TABLE supervisor_states
  -- The active leaf states as dotted paths (";" between parallel regions), e.g.
  -- "active.executing.running". C collation lets a prefix LIKE use the index.
  ADD COLUMN state_value      text COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN tags             text[] NOT NULL DEFAULT '{}',
  -- Set when the lifecycle state or the state value changes.
  ADD COLUMN state_entered_at timestamptz NOT NULL DEFAULT now();

-- Lists are pages in id order: an equality filter followed by id serves them without a sort.
DROP INDEX supervisor_states_state_idx;
CREATE INDEX supervisor_states_state_idx ON supervisor_states (state, id);
CREATE INDEX supervisor_states_stuck_idx ON supervisor_states (state, state_entered_at);
CREATE INDEX supervisor_states_state_value_idx ON supervisor_states (state_value, id);
CREATE INDEX supervisor_states_machine_idx ON supervisor_states (machine_id, id);
CREATE INDEX supervisor_states_tags_idx ON supervisor_states USING gin (tags);
CREATE INDEX supervisor_states_progress_idx ON supervisor_states (progress);

-- Most writes change only the snapshot, version and questions. PostgreSQL can then update
-- the row in place (HOT: no index touched) if no indexed column changed and the page has
-- room. The old partial index read pending_questions itself, which changes on nearly
-- every answer; it now reads a generated flag that changes only when the list empties or
-- fills.
ALTER TABLE supervisor_states SET (fillfactor = 85);
ALTER TABLE supervisor_states
  ADD COLUMN has_pending_questions boolean
  GENERATED ALWAYS AS (pending_questions <> '[]'::jsonb) STORED;
DROP INDEX supervisor_states_pending_questions_idx;
CREATE INDEX supervisor_states_pending_questions_idx
  ON supervisor_states (id) WHERE has_pending_questions;

-- Duplicate answers are recognised by the journal: one lookup per late retry.
CREATE INDEX supervisor_events_answers_idx
  ON supervisor_events (supervisor_id, (payload->>'questionId'))
  WHERE kind = 'question_answered';
