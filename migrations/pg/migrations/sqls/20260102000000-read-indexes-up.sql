-- Indexes shaped like the reads the service makes: the equality columns of
-- the filter, then the order the rows are returned in, so a page reads only
-- its own rows.
-- GET /tasks by key (and status): live rows, in id order (LoopBack's default).
CREATE INDEX idx_tasks_key_status ON main.tasks (key, status, deleted, id);
DROP INDEX main.idx_tasks_key;
-- GET /events by key and time range, newest first (the events' default order).
CREATE INDEX idx_events_key_timestamp_id ON main.events (key, "timestamp", id);
DROP INDEX main.idx_events_key_timestamp;
-- GET /tasks/{id}/user-tasks: a task's live user tasks, in id order.
CREATE INDEX idx_user_tasks_task_live ON main.user_tasks (task_id, deleted, id);
DROP INDEX main.idx_user_tasks_task_id;
