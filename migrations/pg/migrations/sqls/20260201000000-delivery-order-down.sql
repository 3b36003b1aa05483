-- Removes exactly what the delivery-order migration made.
DROP TABLE IF EXISTS main.task_starts;
DROP TABLE IF EXISTS main.outbox_event_keys;
DROP INDEX IF EXISTS main.idx_outbox_events_parked;
DROP INDEX IF EXISTS main.idx_outbox_events_due;
ALTER TABLE main.outbox_events
  DROP COLUMN IF EXISTS discarded_on,
  DROP COLUMN IF EXISTS parked_on,
  DROP COLUMN IF EXISTS last_attempt_on;
