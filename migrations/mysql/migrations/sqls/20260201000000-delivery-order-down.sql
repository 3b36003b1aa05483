-- Removes exactly what the delivery-order migration made.
DROP TABLE IF EXISTS task_starts;
DROP TABLE IF EXISTS outbox_event_keys;
ALTER TABLE outbox_events
  DROP KEY idx_outbox_events_parked,
  DROP KEY idx_outbox_events_due,
  DROP COLUMN discarded_on,
  DROP COLUMN parked_on,
  DROP COLUMN last_attempt_on;
