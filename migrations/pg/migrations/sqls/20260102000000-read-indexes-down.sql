CREATE INDEX idx_user_tasks_task_id ON main.user_tasks (task_id);
DROP INDEX main.idx_user_tasks_task_live;
CREATE INDEX idx_events_key_timestamp ON main.events (key, "timestamp");
DROP INDEX main.idx_events_key_timestamp_id;
CREATE INDEX idx_tasks_key ON main.tasks (key);
DROP INDEX main.idx_tasks_key_status;
