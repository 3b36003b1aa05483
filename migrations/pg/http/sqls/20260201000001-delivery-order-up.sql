-- Per-receiver, per-task order of webhook deliveries.

-- The order deliveries were queued in, across transactions.
ALTER TABLE main.webhook_deliveries ADD COLUMN seq bigserial NOT NULL;

-- The ordering keys (task ids) of the deliveries not yet delivered, by
-- receiver: one row per delivery and key, removed when the delivery is
-- delivered. A dead delivery keeps its rows until it is re-queued and
-- delivered. A delivery is claimable only when no row of an earlier
-- delivery to the same receiver shares one of its keys.
CREATE TABLE main.webhook_delivery_keys (
  delivery_id   uuid NOT NULL REFERENCES main.webhook_deliveries (id) ON DELETE CASCADE,
  -- Hex SHA-256 of the client app id and the url: the endpoint that must
  -- see a task's events in order, whichever subscriptions (one per event
  -- key) send them there.
  receiver      varchar(64) NOT NULL,
  ordering_key  varchar(255) NOT NULL,
  -- The delivery's seq, so the "earlier delivery" test reads this index alone.
  seq           bigint NOT NULL,
  PRIMARY KEY (delivery_id, ordering_key)
);
CREATE INDEX idx_webhook_delivery_keys_order
  ON main.webhook_delivery_keys (receiver, ordering_key, seq);
