-- The machine's state value at each journal entry's version, so the dashboard can replay a
-- supervisor's history on its statechart entry by entry (issue 17). Null for entries
-- written before this column, and for entries no snapshot was captured with (a restore):
-- the replay says so instead of guessing.
ALTER TABLE supervisor_events ADD COLUMN state_value text;
