-- The journal is written by the commit statement only for the supervisor rows that same
-- statement wrote (and by the restore mark, for the rows it updated), so a foreign key
-- checks what cannot fail: its check was an SPI lookup and a row lock on the supervisor
-- row for each journal entry, about a fifth of the commit statement (bench/profile.md).
-- The cascade it carried is kept by a statement trigger: a supervisor deleted, by
-- retention or by hand, takes its journal with it.
ALTER TABLE supervisor_events DROP CONSTRAINT supervisor_events_supervisor_id_fkey;

CREATE FUNCTION supervisor_events_delete_with_supervisor() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM supervisor_events e USING deleted d WHERE e.supervisor_id = d.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER supervisor_states_delete_journal
  AFTER DELETE ON supervisor_states
  REFERENCING OLD TABLE AS deleted
  FOR EACH STATEMENT EXECUTE FUNCTION supervisor_events_delete_with_supervisor();
