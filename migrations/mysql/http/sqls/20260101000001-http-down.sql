-- Removes exactly what the http migration made.
DROP TABLE IF EXISTS webhook_subscriptions;
DROP TABLE IF EXISTS client_apps;
