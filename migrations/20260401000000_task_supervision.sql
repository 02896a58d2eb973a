-- Task supervision: each task row carries its restart policy and the times it was
-- restarted (its restart budget), copied from the supervisor's snapshot with every write,
-- so a crash loop across process restarts still exhausts the budget.

ALTER TABLE supervisor_tasks
  ADD COLUMN restart_policy jsonb NOT NULL
    DEFAULT '{"restart": "temporary", "intensity": 3, "periodMs": 60000}',
  ADD COLUMN restarts jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(restarts) = 'array'),
  ADD COLUMN finished_at timestamptz;

COMMENT ON COLUMN supervisor_tasks.attempts IS
  'The current attempt, from 1; with the task id it is the run''s idempotency key';
