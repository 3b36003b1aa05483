-- The relay's claim from the heads of the keys: it finds the first event
-- of each ordering key in outbox_event_keys (idx_outbox_event_keys_order),
-- rather than testing every due event for an earlier one on its keys.

-- How many ordering keys the event was written with (its rows in
-- outbox_event_keys), set once by the outbox's add and never changed. An
-- event that is first on key_count keys is first on all of them; one with
-- none goes at any time. NULL (written before this column, or by hand):
-- the claim tests the event against the keys table, as before.
ALTER TABLE main.outbox_events ADD COLUMN key_count integer;
UPDATE main.outbox_events o
   SET key_count = (SELECT count(*) FROM main.outbox_event_keys k
                     WHERE k.event_id = o.id)
 WHERE o.published_on IS NULL AND o.discarded_on IS NULL;

-- The due events that may have no key: they have no head to be found by.
CREATE INDEX idx_outbox_events_unkeyed ON main.outbox_events (available_on, seq)
  WHERE published_on IS NULL AND parked_on IS NULL AND discarded_on IS NULL
    AND (key_count IS NULL OR key_count = 0);
