-- Removes exactly what the outbox-heads migration made.
DROP INDEX IF EXISTS main.idx_outbox_events_unkeyed;
ALTER TABLE main.outbox_events DROP COLUMN IF EXISTS key_count;
