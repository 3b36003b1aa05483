-- How many ordering keys the event was written with. Same columns and keys
-- as the PostgreSQL migration of the same name (a test compares the two);
-- see there. The MySQL claim does not read them yet: they keep the two
-- schemas alike, and the outbox's add writes key_count here too.
ALTER TABLE outbox_events
  ADD COLUMN key_count INT,
  -- PostgreSQL: on available_on and seq, partial on the three being NULL
  -- and key_count NULL or 0.
  ADD KEY idx_outbox_events_unkeyed
    (published_on, parked_on, discarded_on, key_count, available_on, seq);
UPDATE outbox_events o
   SET key_count = (SELECT COUNT(*) FROM outbox_event_keys k
                     WHERE k.event_id = o.id)
 WHERE o.published_on IS NULL AND o.discarded_on IS NULL;
