-- Copies the rows of a @sourceloop/task-service 2.x database into this
-- service's tables. Before running it (see the README, "Migrating from
-- @sourceloop/task-service"):
--   ALTER SCHEMA main RENAME TO sourceloop_main;
--   ALTER TABLE public.migrations RENAME TO sourceloop_migrations;
-- then run this package's core and http migrations, which create `main`.
-- Tables the old schema lacks are skipped; nothing in sourceloop_main is
-- changed, so it can be checked and dropped afterwards.
DO $$
DECLARE
  apps integer;
  left_over integer;
BEGIN
  IF to_regclass('sourceloop_main.tasks') IS NOT NULL THEN
    INSERT INTO main.tasks (id, key, name, description, status, priority,
      severity, type, start_date, due_date, end_date, assignee_id, metadata,
      external_id, created_on, modified_on, created_by, modified_by, deleted,
      deleted_on, deleted_by)
    SELECT id, key, COALESCE(name, key), description,
      COALESCE(status, 'pending'), priority, severity, type, start_date,
      due_date, end_date, assignee_id::text, metadata, external_id,
      created_on, modified_on, created_by::text, modified_by::text,
      COALESCE(deleted, false), deleted_on, deleted_by::text
    FROM sourceloop_main.tasks;
  END IF;

  -- The old user-task sync recorded an engine task once per sync: keep one
  -- row per engine task, a completed one first.
  IF to_regclass('sourceloop_main.user_tasks') IS NOT NULL THEN
    INSERT INTO main.user_tasks (id, task_id, name, status, external_id,
      created_on, modified_on, created_by, modified_by, deleted, deleted_on,
      deleted_by)
    SELECT id, task_id, name, status, external_id, created_on, modified_on,
      created_by, modified_by, deleted, deleted_on, deleted_by
    FROM (
      SELECT DISTINCT ON (COALESCE(u.external_id, u.id::text)) u.id,
        u.task_id, COALESCE(u.name, 'User task') AS name,
        COALESCE(u.status, 'pending') AS status, u.external_id, u.created_on,
        u.modified_on, u.created_by::text AS created_by,
        u.modified_by::text AS modified_by,
        COALESCE(u.deleted, false) AS deleted, u.deleted_on,
        u.deleted_by::text AS deleted_by
      FROM sourceloop_main.user_tasks u
      WHERE u.task_id IN (SELECT id FROM main.tasks)
      ORDER BY COALESCE(u.external_id, u.id::text),
        COALESCE(u.status = 'completed', false) DESC, u.modified_on DESC
    ) AS one_per_engine_task;
  END IF;

  IF to_regclass('sourceloop_main.events') IS NOT NULL THEN
    INSERT INTO main.events (id, key, description, source, payload,
      "timestamp")
    SELECT id, key, description, source, payload,
      COALESCE("timestamp"::bigint, 0)
    FROM sourceloop_main.events
    WHERE key IS NOT NULL;
  END IF;

  -- A pair mapped twice would start its workflow twice: one live row each.
  IF to_regclass('sourceloop_main.event_workflows') IS NOT NULL THEN
    INSERT INTO main.event_workflows (id, event_key, workflow_key, created_on, modified_on,
      created_by, modified_by, deleted, deleted_on, deleted_by)
    SELECT id, event_key, workflow_key, created_on, modified_on, created_by::text,
      modified_by::text, COALESCE(deleted, false), deleted_on,
      deleted_by::text
    FROM (
      SELECT DISTINCT ON (event_key, workflow_key) *
      FROM sourceloop_main.event_workflows
      WHERE NOT COALESCE(deleted, false)
      ORDER BY event_key, workflow_key, created_on
    ) AS live
    WHERE event_key IS NOT NULL AND workflow_key IS NOT NULL
    UNION ALL
    SELECT id, event_key, workflow_key, created_on, modified_on, created_by::text,
      modified_by::text, true, deleted_on, deleted_by::text
    FROM sourceloop_main.event_workflows
    WHERE COALESCE(deleted, false)
      AND event_key IS NOT NULL AND workflow_key IS NOT NULL;
  END IF;

  IF to_regclass('sourceloop_main.task_workflows') IS NOT NULL THEN
    INSERT INTO main.task_workflows (id, task_key, workflow_key, created_on, modified_on,
      created_by, modified_by, deleted, deleted_on, deleted_by)
    SELECT id, task_key, workflow_key, created_on, modified_on, created_by::text,
      modified_by::text, COALESCE(deleted, false), deleted_on,
      deleted_by::text
    FROM (
      SELECT DISTINCT ON (task_key, workflow_key) *
      FROM sourceloop_main.task_workflows
      WHERE NOT COALESCE(deleted, false)
      ORDER BY task_key, workflow_key, created_on
    ) AS live
    WHERE task_key IS NOT NULL AND workflow_key IS NOT NULL
    UNION ALL
    SELECT id, task_key, workflow_key, created_on, modified_on, created_by::text,
      modified_by::text, true, deleted_on, deleted_by::text
    FROM sourceloop_main.task_workflows
    WHERE COALESCE(deleted, false)
      AND task_key IS NOT NULL AND workflow_key IS NOT NULL;
  END IF;

  IF to_regclass('sourceloop_main.workflows') IS NOT NULL THEN
    INSERT INTO main.workflows (id, workflow_version, name, description,
      external_identifier, provider, inputschema, created_on, modified_on,
      created_by, modified_by, deleted, deleted_on, deleted_by)
    SELECT id, workflow_version, COALESCE(name, external_identifier),
      description, external_identifier, provider, inputschema, created_on,
      modified_on, created_by::text, modified_by::text,
      COALESCE(deleted, false), deleted_on, deleted_by::text
    FROM sourceloop_main.workflows
    WHERE external_identifier IS NOT NULL;
  END IF;

  IF to_regclass('sourceloop_main.workflow_versions') IS NOT NULL THEN
    INSERT INTO main.workflow_versions (id, version, workflow_id,
      bpmn_diagram, external_workflow_id, inputschema)
    SELECT id, version, workflow_id, bpmn_diagram::text,
      external_workflow_id, inputschema
    FROM sourceloop_main.workflow_versions
    WHERE external_workflow_id IS NOT NULL
      AND workflow_id IN (SELECT id FROM main.workflows);
  END IF;

  IF to_regclass('sourceloop_main.client_apps') IS NOT NULL
     AND to_regclass('main.client_apps') IS NOT NULL THEN
    INSERT INTO main.client_apps (id, name, api_key, api_secret)
    SELECT id, name, api_key, api_secret FROM sourceloop_main.client_apps;
  END IF;

  -- The old subscriptions do not say which client app made them, and a
  -- delivery is signed with that app's secret. With one client app they are
  -- its own; otherwise each client subscribes again.
  IF to_regclass('sourceloop_main.webhook_subscriptions') IS NOT NULL
     AND to_regclass('main.webhook_subscriptions') IS NOT NULL THEN
    SELECT count(*) INTO apps FROM main.client_apps;
    IF apps = 1 THEN
      INSERT INTO main.webhook_subscriptions (id, key, url, client_app_id)
      SELECT DISTINCT ON (s.key, s.url) s.id, s.key, s.url, a.id
      FROM sourceloop_main.webhook_subscriptions s
      CROSS JOIN main.client_apps a
      ORDER BY s.key, s.url, s.id;
    ELSE
      SELECT count(*) INTO left_over
      FROM sourceloop_main.webhook_subscriptions;
      IF left_over > 0 THEN
        RAISE NOTICE '% webhook subscriptions were not copied: % client apps, and a subscription does not say whose it is. Each client subscribes again.',
          left_over, apps;
      END IF;
    END IF;
  END IF;
END
$$;
