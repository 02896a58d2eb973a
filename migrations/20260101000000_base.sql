-- Base tables: one row per supervisor with its XState snapshot, the task records it
-- spawned, the append-only journal, and the checkpoints restoration falls back to.

CREATE TABLE supervisor_states (
  id              uuid PRIMARY KEY,
  machine_id      text NOT NULL,
  machine_version integer NOT NULL CHECK (machine_version >= 0),
  owner           text,
  -- XState's getPersistedSnapshot(); it carries no machine identity and no timers,
  -- hence the columns beside it.
  snapshot        jsonb NOT NULL,
  xstate_version  text,
  timers          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(timers) = 'array'),
  -- Strictly increasing per supervisor: writes carry it and never replace a newer row.
  version         bigint NOT NULL CHECK (version >= 0),
  phase           text,
  last_heartbeat  timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX supervisor_states_owner_idx ON supervisor_states (owner, id);

CREATE TABLE supervisor_tasks (
  id            uuid PRIMARY KEY,
  supervisor_id uuid NOT NULL REFERENCES supervisor_states (id) ON DELETE CASCADE,
  name          text NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  input         jsonb,
  result        jsonb,
  error         text,
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX supervisor_tasks_supervisor_idx ON supervisor_tasks (supervisor_id, id);

CREATE TABLE supervisor_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  supervisor_id uuid NOT NULL REFERENCES supervisor_states (id) ON DELETE CASCADE,
  -- The snapshot version whose commit recorded this event.
  version       bigint,
  kind          text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX supervisor_events_supervisor_idx ON supervisor_events (supervisor_id, id);

CREATE TABLE supervisor_checkpoints (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  supervisor_id   uuid NOT NULL REFERENCES supervisor_states (id) ON DELETE CASCADE,
  version         bigint NOT NULL,
  machine_version integer NOT NULL,
  phase           text,
  snapshot        jsonb NOT NULL,
  timers          jsonb NOT NULL DEFAULT '[]',
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (supervisor_id, version)
);
