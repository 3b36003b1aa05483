-- Core tables of the task service, for MySQL 8.0.16+ and MariaDB 10.6+, in
-- the connected database (MySQL's schema). Same tables, columns, keys and
-- indexes as the PostgreSQL migration (a test compares the two), mapped so:
--   uuid         CHAR(36) DEFAULT (UUID())
--   timestamptz  DATETIME(3) DEFAULT (UTC_TIMESTAMP(3)), always UTC
--   json         LONGTEXT CHECK (JSON_VALID(col)): text kept verbatim, as
--                PostgreSQL's json (MySQL's native JSON would reorder keys)
--   text         LONGTEXT;  boolean TINYINT(1);  bigserial AUTO_INCREMENT
--   partial index  the predicate's column leads the index, or a stored
--                generated column `not_deleted` (1, or NULL once deleted)
--                joins a unique key: NULLs never collide
-- Strings are utf8mb4_bin: case-sensitive, as PostgreSQL compares.
--
-- What the service's own SQL needs on these tables:
-- - no schema prefix (`main.`), `?` placeholders, backticks around `key`
--   and `timestamp`, no `::` casts (event::text is just `event`);
-- - UTC_TIMESTAMP(3) for now(), TIMESTAMPADD(MICROSECOND, ms * 1000, ...)
--   for now() + interval; NOW() is session time and whole seconds;
-- - ids: MySQL has no RETURNING, MariaDB only on INSERT and DELETE, so the
--   service makes uuids itself when it needs them back;
-- - ON CONFLICT DO NOTHING: INSERT IGNORE (affectedRows 0 on a duplicate),
--   which also turns foreign key and CHECK errors into warnings;
-- - FOR UPDATE SKIP LOCKED: MySQL 8.0.1+, MariaDB 10.6+; no UPDATE ... FROM
--   and no UPDATE of a table read in its own subquery: claim with SELECT ...
--   FOR UPDATE SKIP LOCKED, then UPDATE ... WHERE id IN (...);
-- - DDL commits implicitly: a migration that fails half-way stays half-done.

CREATE TABLE tasks (
  id            CHAR(36) NOT NULL DEFAULT (UUID()),
  `key`         VARCHAR(255) NOT NULL,
  name          VARCHAR(500) NOT NULL,
  description   LONGTEXT,
  status        VARCHAR(50) NOT NULL DEFAULT 'pending',
  priority      VARCHAR(50),
  severity      VARCHAR(50),
  type          VARCHAR(255),
  start_date    DATETIME(3),
  due_date      DATETIME(3),
  end_date      DATETIME(3),
  assignee_id   VARCHAR(255),
  metadata      LONGTEXT CHECK (JSON_VALID(metadata)),
  external_id   VARCHAR(255),
  created_on    DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on   DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  created_by    VARCHAR(255),
  modified_by   VARCHAR(255),
  deleted       TINYINT(1) NOT NULL DEFAULT 0,
  deleted_on    DATETIME(3),
  deleted_by    VARCHAR(255),
  PRIMARY KEY (id),
  KEY idx_tasks_key (`key`),
  KEY idx_tasks_status (status),
  KEY idx_tasks_external_id (external_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE user_tasks (
  id            CHAR(36) NOT NULL DEFAULT (UUID()),
  task_id       CHAR(36) NOT NULL,
  name          VARCHAR(500) NOT NULL,
  status        VARCHAR(50) NOT NULL DEFAULT 'pending',
  external_id   VARCHAR(255),
  created_on    DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on   DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  created_by    VARCHAR(255),
  modified_by   VARCHAR(255),
  deleted       TINYINT(1) NOT NULL DEFAULT 0,
  deleted_on    DATETIME(3),
  deleted_by    VARCHAR(255),
  PRIMARY KEY (id),
  KEY idx_user_tasks_task_id (task_id),
  -- One row per engine user task: a sync can never record it twice.
  UNIQUE KEY uq_user_tasks_external_id (external_id),
  CONSTRAINT user_tasks_task_id_fkey FOREIGN KEY (task_id) REFERENCES tasks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE events (
  id            CHAR(36) NOT NULL DEFAULT (UUID()),
  `key`         VARCHAR(255) NOT NULL,
  description   LONGTEXT,
  source        VARCHAR(255),
  payload       LONGTEXT CHECK (JSON_VALID(payload)),
  `timestamp`   BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY idx_events_key_timestamp (`key`, `timestamp`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Incoming events that carry an id at their source (Kafka offset, client
-- idempotency key): a redelivery finds its event here instead of storing it
-- again.
CREATE TABLE event_receipts (
  source_id   VARCHAR(512) NOT NULL,
  event_id    CHAR(36) NOT NULL,
  created_on  DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  PRIMARY KEY (source_id),
  -- InnoDB needs an index on a foreign key; named here rather than implied.
  KEY idx_event_receipts_event_id (event_id),
  CONSTRAINT event_receipts_event_id_fkey FOREIGN KEY (event_id)
    REFERENCES events (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The mapped workflows an event has started: a redelivery starts only the
-- ones that had not started yet.
CREATE TABLE event_workflow_runs (
  event_id      CHAR(36) NOT NULL,
  workflow_key  VARCHAR(255) NOT NULL,
  instance_id   VARCHAR(255),
  created_on    DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  PRIMARY KEY (event_id, workflow_key),
  CONSTRAINT event_workflow_runs_event_id_fkey FOREIGN KEY (event_id)
    REFERENCES events (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE event_workflows (
  id            CHAR(36) NOT NULL DEFAULT (UUID()),
  event_key     VARCHAR(255) NOT NULL,
  workflow_key  VARCHAR(255) NOT NULL,
  created_on    DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on   DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  created_by    VARCHAR(255),
  modified_by   VARCHAR(255),
  deleted       TINYINT(1) NOT NULL DEFAULT 0,
  deleted_on    DATETIME(3),
  deleted_by    VARCHAR(255),
  -- 1 while the row is live, NULL once soft-deleted: the unique key below
  -- then holds among live rows only, as PostgreSQL's `WHERE NOT deleted`.
  not_deleted   TINYINT(1) GENERATED ALWAYS AS (CASE WHEN deleted THEN NULL ELSE 1 END) STORED,
  PRIMARY KEY (id),
  KEY idx_event_workflows_event_key (event_key),
  -- Mapping the same pair twice would start the workflow twice per event.
  UNIQUE KEY uq_event_workflows_pair (event_key, workflow_key, not_deleted)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE task_workflows (
  id            CHAR(36) NOT NULL DEFAULT (UUID()),
  workflow_key  VARCHAR(255) NOT NULL,
  task_key      VARCHAR(255) NOT NULL,
  created_on    DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on   DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  created_by    VARCHAR(255),
  modified_by   VARCHAR(255),
  deleted       TINYINT(1) NOT NULL DEFAULT 0,
  deleted_on    DATETIME(3),
  deleted_by    VARCHAR(255),
  not_deleted   TINYINT(1) GENERATED ALWAYS AS (CASE WHEN deleted THEN NULL ELSE 1 END) STORED,
  PRIMARY KEY (id),
  KEY idx_task_workflows_task_key (task_key),
  UNIQUE KEY uq_task_workflows_pair (task_key, workflow_key, not_deleted)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE workflows (
  id                   CHAR(36) NOT NULL DEFAULT (UUID()),
  workflow_version     INT NOT NULL,
  name                 VARCHAR(255) NOT NULL,
  description          LONGTEXT,
  external_identifier  VARCHAR(255) NOT NULL,
  provider             VARCHAR(255),
  inputschema          LONGTEXT CHECK (JSON_VALID(inputschema)),
  created_on           DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on          DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  created_by           VARCHAR(255),
  modified_by          VARCHAR(255),
  deleted              TINYINT(1) NOT NULL DEFAULT 0,
  deleted_on           DATETIME(3),
  deleted_by           VARCHAR(255),
  PRIMARY KEY (id),
  KEY idx_workflows_external_identifier (external_identifier)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE workflow_versions (
  id                    CHAR(36) NOT NULL DEFAULT (UUID()),
  version               INT NOT NULL,
  workflow_id           CHAR(36) NOT NULL,
  bpmn_diagram          LONGTEXT,
  external_workflow_id  VARCHAR(255) NOT NULL,
  inputschema           LONGTEXT CHECK (JSON_VALID(inputschema)),
  PRIMARY KEY (id),
  UNIQUE KEY workflow_versions_workflow_id_version_key (workflow_id, version),
  CONSTRAINT workflow_versions_workflow_id_fkey FOREIGN KEY (workflow_id)
    REFERENCES workflows (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Outgoing events, written in the transaction of the change that caused them
-- and handed to the outgoing connector by a relay afterwards (an outbox).
CREATE TABLE outbox_events (
  id            CHAR(36) NOT NULL DEFAULT (UUID()),
  -- Taken at insert, so it orders events by when they were written, also
  -- across transactions that started in another order.
  seq           BIGINT NOT NULL AUTO_INCREMENT,
  `key`         VARCHAR(255) NOT NULL,
  event         LONGTEXT NOT NULL CHECK (JSON_VALID(event)),
  created_on    DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  available_on  DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  attempts      INT NOT NULL DEFAULT 0,
  last_error    LONGTEXT,
  published_on  DATETIME(3),
  PRIMARY KEY (id),
  -- AUTO_INCREMENT must lead a key.
  KEY idx_outbox_events_seq (seq),
  -- The relay's pending rows in seq order (PostgreSQL: on seq, partial).
  KEY idx_outbox_events_pending (published_on, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- External tasks whose command has committed its work: a retry of the same
-- external task (its completion was lost) completes it without doing the
-- work twice.
CREATE TABLE command_runs (
  external_task_id  VARCHAR(255) NOT NULL,
  topic             VARCHAR(255) NOT NULL,
  created_on        DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  PRIMARY KEY (external_task_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
