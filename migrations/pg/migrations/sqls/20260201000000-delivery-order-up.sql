-- Per-task order and parking for the outbox, and child workflows started
-- after their tasks commit.

-- An event that fails maxAttempts times (while others are published) is
-- parked: it waits for a replay or a discard and blocks only the later
-- events of its own tasks.
ALTER TABLE main.outbox_events
  ADD COLUMN last_attempt_on timestamptz,
  ADD COLUMN parked_on       timestamptz,
  ADD COLUMN discarded_on    timestamptz;

-- The relay's claim: events neither published, parked nor discarded whose
-- time has come. An event waiting behind an earlier one of its tasks has
-- its available_on kept at that one's next try, so it stays out of the
-- claim's range until then.
CREATE INDEX idx_outbox_events_due ON main.outbox_events (available_on, seq)
  WHERE published_on IS NULL AND parked_on IS NULL AND discarded_on IS NULL;
CREATE INDEX idx_outbox_events_parked ON main.outbox_events (parked_on)
  WHERE parked_on IS NOT NULL;

-- The ordering keys (task ids) of the events still to publish: one row per
-- event and key, removed when the event is published or discarded. An
-- event is due only when no row of an earlier event shares one of its keys.
CREATE TABLE main.outbox_event_keys (
  event_id      uuid NOT NULL REFERENCES main.outbox_events (id) ON DELETE CASCADE,
  ordering_key  varchar(255) NOT NULL,
  -- The event's seq, so the "earlier event" test reads this index alone.
  seq           bigint NOT NULL,
  PRIMARY KEY (event_id, ordering_key)
);
CREATE INDEX idx_outbox_event_keys_order
  ON main.outbox_event_keys (ordering_key, seq);

-- The tasks a create-tasks work item created whose workflows are still to
-- start (and whose task-created is still to announce): written with the
-- tasks, removed once the workflows run. A retry of the work item after a
-- crash finishes them instead of creating the tasks again.
CREATE TABLE main.task_starts (
  external_task_id  varchar(255) NOT NULL,
  -- The task's place in the work item's tasks.values.
  task_index        integer NOT NULL,
  task_id           uuid NOT NULL,
  -- The workflow mapped to the task's key; NULL when none.
  workflow_key      varchar(255),
  created_on        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (external_task_id, task_index)
);
