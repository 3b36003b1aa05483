-- Per-task order and parking for the outbox, and child workflows started
-- after their tasks commit. Same tables, columns and keys as the PostgreSQL
-- migration of the same name (a test compares the two).

-- An event that fails maxAttempts times (while others are published) is
-- parked: it waits for a replay or a discard and blocks only the later
-- events of its own tasks.
ALTER TABLE outbox_events
  ADD COLUMN last_attempt_on DATETIME(3),
  ADD COLUMN parked_on       DATETIME(3),
  ADD COLUMN discarded_on    DATETIME(3),
  -- The relay's claim: events neither published, parked nor discarded whose
  -- time has come (PostgreSQL: on available_on and seq, partial on the
  -- three being NULL). An event waiting behind an earlier one of its tasks
  -- has its available_on kept at that one's next try.
  ADD KEY idx_outbox_events_due
    (published_on, parked_on, discarded_on, available_on, seq),
  -- Parked events (PostgreSQL: partial on parked_on IS NOT NULL).
  ADD KEY idx_outbox_events_parked (parked_on);

-- The ordering keys (task ids) of the events still to publish: one row per
-- event and key, removed when the event is published or discarded. An
-- event is due only when no row of an earlier event shares one of its keys.
CREATE TABLE outbox_event_keys (
  event_id      CHAR(36) NOT NULL,
  ordering_key  VARCHAR(255) NOT NULL,
  -- The event's seq, so the "earlier event" test reads this index alone.
  seq           BIGINT NOT NULL,
  PRIMARY KEY (event_id, ordering_key),
  KEY idx_outbox_event_keys_order (ordering_key, seq),
  CONSTRAINT outbox_event_keys_event_id_fkey FOREIGN KEY (event_id)
    REFERENCES outbox_events (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The tasks a create-tasks work item created whose workflows are still to
-- start (and whose task-created is still to announce): written with the
-- tasks, removed once the workflows run. A retry of the work item after a
-- crash finishes them instead of creating the tasks again.
CREATE TABLE task_starts (
  external_task_id  VARCHAR(255) NOT NULL,
  -- The task's place in the work item's tasks.values.
  task_index        INT NOT NULL,
  task_id           CHAR(36) NOT NULL,
  -- The workflow mapped to the task's key; NULL when none.
  workflow_key      VARCHAR(255),
  created_on        DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  PRIMARY KEY (external_task_id, task_index)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
