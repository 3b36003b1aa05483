-- Removes exactly what the webhook-deliveries migration made.
DROP TABLE IF EXISTS main.webhook_delivery_attempts;
DROP TABLE IF EXISTS main.webhook_deliveries;
