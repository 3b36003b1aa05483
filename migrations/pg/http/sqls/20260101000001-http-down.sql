-- Removes exactly what the http migration made.
DROP TABLE IF EXISTS main.webhook_subscriptions;
DROP TABLE IF EXISTS main.client_apps;
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'main'
  ) THEN
    DROP SCHEMA main;
  END IF;
END $$;
