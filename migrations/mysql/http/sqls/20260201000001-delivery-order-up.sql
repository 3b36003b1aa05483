-- Per-receiver, per-task order of webhook deliveries. Same tables, columns
-- and keys as the PostgreSQL migration of the same name.

-- The order deliveries were queued in, across transactions (an
-- AUTO_INCREMENT must lead a key of its own).
ALTER TABLE webhook_deliveries
  ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT,
  ADD KEY idx_webhook_deliveries_seq (seq);

-- The ordering keys (task ids) of the deliveries not yet delivered, by
-- receiver: one row per delivery and key, removed when the delivery is
-- delivered. A dead delivery keeps its rows until it is re-queued and
-- delivered. A delivery is claimable only when no row of an earlier
-- delivery to the same receiver shares one of its keys.
CREATE TABLE webhook_delivery_keys (
  delivery_id   CHAR(36) NOT NULL,
  -- Hex SHA-256 of the client app id and the url: the endpoint that must
  -- see a task's events in order, whichever subscriptions (one per event
  -- key) send them there.
  receiver      VARCHAR(64) NOT NULL,
  ordering_key  VARCHAR(255) NOT NULL,
  -- The delivery's seq, so the "earlier delivery" test reads this index alone.
  seq           BIGINT NOT NULL,
  PRIMARY KEY (delivery_id, ordering_key),
  KEY idx_webhook_delivery_keys_order (receiver, ordering_key, seq),
  CONSTRAINT webhook_delivery_keys_delivery_id_fkey FOREIGN KEY (delivery_id)
    REFERENCES webhook_deliveries (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
