ALTER TABLE user_tasks
  ADD INDEX idx_user_tasks_task_id (task_id),
  DROP INDEX idx_user_tasks_task_live;
ALTER TABLE events
  ADD INDEX idx_events_key_timestamp (`key`, `timestamp`),
  DROP INDEX idx_events_key_timestamp_id;
ALTER TABLE tasks
  ADD INDEX idx_tasks_key (`key`),
  DROP INDEX idx_tasks_key_status;
