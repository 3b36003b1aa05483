-- Removes exactly what the http delivery-order migration made.
DROP TABLE IF EXISTS main.webhook_delivery_keys;
ALTER TABLE main.webhook_deliveries DROP COLUMN IF EXISTS seq;
