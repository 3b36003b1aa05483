-- Removes exactly what the init migration made.
DROP TABLE IF EXISTS main.command_runs;
DROP TABLE IF EXISTS main.outbox_events;
DROP TABLE IF EXISTS main.workflow_versions;
DROP TABLE IF EXISTS main.workflows;
DROP TABLE IF EXISTS main.task_workflows;
DROP TABLE IF EXISTS main.event_workflows;
DROP TABLE IF EXISTS main.event_workflow_runs;
DROP TABLE IF EXISTS main.event_receipts;
DROP TABLE IF EXISTS main.events;
DROP TABLE IF EXISTS main.user_tasks;
DROP TABLE IF EXISTS main.tasks;
-- The schema goes only if nothing else (such as the HTTP tables) lives in it.
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'main'
  ) THEN
    DROP SCHEMA main;
  END IF;
END $$;
