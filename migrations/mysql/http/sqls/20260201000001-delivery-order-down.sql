-- Removes exactly what the http delivery-order migration made (the seq
-- index goes with its column).
DROP TABLE IF EXISTS webhook_delivery_keys;
ALTER TABLE webhook_deliveries DROP COLUMN seq;
