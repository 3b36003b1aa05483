ALTER TABLE client_apps
  DROP INDEX uq_client_apps_live_name,
  DROP COLUMN not_deleted;
