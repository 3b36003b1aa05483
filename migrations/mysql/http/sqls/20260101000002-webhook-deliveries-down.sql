-- Removes exactly what the webhook-deliveries migration made.
DROP TABLE IF EXISTS webhook_delivery_attempts;
DROP TABLE IF EXISTS webhook_deliveries;
