DROP INDEX IF EXISTS main.uq_client_apps_live_name;
