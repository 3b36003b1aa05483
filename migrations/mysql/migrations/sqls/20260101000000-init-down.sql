-- Removes exactly what the init migration made. The database itself stays:
-- it is the one the migrations connect to.
DROP TABLE IF EXISTS command_runs;
DROP TABLE IF EXISTS outbox_events;
DROP TABLE IF EXISTS workflow_versions;
DROP TABLE IF EXISTS workflows;
DROP TABLE IF EXISTS task_workflows;
DROP TABLE IF EXISTS event_workflows;
DROP TABLE IF EXISTS event_workflow_runs;
DROP TABLE IF EXISTS event_receipts;
DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS user_tasks;
DROP TABLE IF EXISTS tasks;
