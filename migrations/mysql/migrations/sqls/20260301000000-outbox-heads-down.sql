-- Removes exactly what the outbox-heads migration made.
ALTER TABLE outbox_events
  DROP KEY idx_outbox_events_unkeyed,
  DROP COLUMN key_count;
