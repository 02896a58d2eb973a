-- The input a supervisor was spawned with: restoration starts it afresh from this when
-- neither its snapshot nor any checkpoint can be restored.
ALTER TABLE supervisor_states ADD COLUMN input jsonb;
