-- Indexes shaped like the reads the service makes (see the PostgreSQL
-- migration of the same name). Each new index is added before the one it
-- replaces is dropped: InnoDB needs an index on user_tasks.task_id for its
-- foreign key at every moment.
ALTER TABLE tasks
  ADD INDEX idx_tasks_key_status (`key`, status, deleted, id),
  DROP INDEX idx_tasks_key;
ALTER TABLE events
  ADD INDEX idx_events_key_timestamp_id (`key`, `timestamp`, id),
  DROP INDEX idx_events_key_timestamp;
ALTER TABLE user_tasks
  ADD INDEX idx_user_tasks_task_live (task_id, deleted, id),
  DROP INDEX idx_user_tasks_task_id;
