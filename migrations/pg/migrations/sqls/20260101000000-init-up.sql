-- Core tables of the task service, in schema main.
CREATE SCHEMA IF NOT EXISTS main;

CREATE TABLE main.tasks (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key           varchar(255) NOT NULL,
  name          varchar(500) NOT NULL,
  description   text,
  status        varchar(50) NOT NULL DEFAULT 'pending',
  priority      varchar(50),
  severity      varchar(50),
  type          varchar(255),
  start_date    timestamptz,
  due_date      timestamptz,
  end_date      timestamptz,
  assignee_id   varchar(255),
  metadata      json,
  external_id   varchar(255),
  created_on    timestamptz NOT NULL DEFAULT now(),
  modified_on   timestamptz NOT NULL DEFAULT now(),
  created_by    varchar(255),
  modified_by   varchar(255),
  deleted       boolean NOT NULL DEFAULT false,
  deleted_on    timestamptz,
  deleted_by    varchar(255)
);
CREATE INDEX idx_tasks_key ON main.tasks (key);
CREATE INDEX idx_tasks_status ON main.tasks (status);
CREATE INDEX idx_tasks_external_id ON main.tasks (external_id);

CREATE TABLE main.user_tasks (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id       uuid NOT NULL REFERENCES main.tasks (id),
  name          varchar(500) NOT NULL,
  status        varchar(50) NOT NULL DEFAULT 'pending',
  external_id   varchar(255),
  created_on    timestamptz NOT NULL DEFAULT now(),
  modified_on   timestamptz NOT NULL DEFAULT now(),
  created_by    varchar(255),
  modified_by   varchar(255),
  deleted       boolean NOT NULL DEFAULT false,
  deleted_on    timestamptz,
  deleted_by    varchar(255)
);
CREATE INDEX idx_user_tasks_task_id ON main.user_tasks (task_id);
-- One row per engine user task: a sync can never record it twice.
CREATE UNIQUE INDEX uq_user_tasks_external_id ON main.user_tasks (external_id);

CREATE TABLE main.events (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key           varchar(255) NOT NULL,
  description   text,
  source        varchar(255),
  payload       json,
  "timestamp"   bigint NOT NULL
);
CREATE INDEX idx_events_key_timestamp ON main.events (key, "timestamp");

-- Incoming events that carry an id at their source (Kafka offset, client
-- idempotency key): a redelivery finds its event here instead of storing it
-- again.
CREATE TABLE main.event_receipts (
  source_id   varchar(512) PRIMARY KEY,
  event_id    uuid NOT NULL REFERENCES main.events (id) ON DELETE CASCADE,
  created_on  timestamptz NOT NULL DEFAULT now()
);

-- The mapped workflows an event has started: a redelivery starts only the
-- ones that had not started yet.
CREATE TABLE main.event_workflow_runs (
  event_id      uuid NOT NULL REFERENCES main.events (id) ON DELETE CASCADE,
  workflow_key  varchar(255) NOT NULL,
  instance_id   varchar(255),
  created_on    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, workflow_key)
);

CREATE TABLE main.event_workflows (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_key     varchar(255) NOT NULL,
  workflow_key  varchar(255) NOT NULL,
  created_on    timestamptz NOT NULL DEFAULT now(),
  modified_on   timestamptz NOT NULL DEFAULT now(),
  created_by    varchar(255),
  modified_by   varchar(255),
  deleted       boolean NOT NULL DEFAULT false,
  deleted_on    timestamptz,
  deleted_by    varchar(255)
);
CREATE INDEX idx_event_workflows_event_key ON main.event_workflows (event_key);
-- Mapping the same pair twice would start the workflow twice per event.
CREATE UNIQUE INDEX uq_event_workflows_pair
  ON main.event_workflows (event_key, workflow_key) WHERE NOT deleted;

CREATE TABLE main.task_workflows (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_key  varchar(255) NOT NULL,
  task_key      varchar(255) NOT NULL,
  created_on    timestamptz NOT NULL DEFAULT now(),
  modified_on   timestamptz NOT NULL DEFAULT now(),
  created_by    varchar(255),
  modified_by   varchar(255),
  deleted       boolean NOT NULL DEFAULT false,
  deleted_on    timestamptz,
  deleted_by    varchar(255)
);
CREATE INDEX idx_task_workflows_task_key ON main.task_workflows (task_key);
CREATE UNIQUE INDEX uq_task_workflows_pair
  ON main.task_workflows (task_key, workflow_key) WHERE NOT deleted;

CREATE TABLE main.workflows (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_version     integer NOT NULL,
  name                 varchar(255) NOT NULL,
  description          text,
  external_identifier  varchar(255) NOT NULL,
  provider             varchar(255),
  inputschema          json,
  created_on           timestamptz NOT NULL DEFAULT now(),
  modified_on          timestamptz NOT NULL DEFAULT now(),
  created_by           varchar(255),
  modified_by          varchar(255),
  deleted              boolean NOT NULL DEFAULT false,
  deleted_on           timestamptz,
  deleted_by           varchar(255)
);
CREATE INDEX idx_workflows_external_identifier ON main.workflows (external_identifier);

CREATE TABLE main.workflow_versions (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  version               integer NOT NULL,
  workflow_id           uuid NOT NULL REFERENCES main.workflows (id) ON DELETE CASCADE,
  bpmn_diagram          text,
  external_workflow_id  varchar(255) NOT NULL,
  inputschema           json,
  UNIQUE (workflow_id, version)
);

-- Outgoing events, written in the transaction of the change that caused them
-- and handed to the outgoing connector by a relay afterwards (an outbox).
CREATE TABLE main.outbox_events (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Taken at insert, so it orders events by when they were written, also
  -- across transactions that started in another order.
  seq           bigserial NOT NULL,
  key           varchar(255) NOT NULL,
  event         json NOT NULL,
  created_on    timestamptz NOT NULL DEFAULT now(),
  available_on  timestamptz NOT NULL DEFAULT now(),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  published_on  timestamptz
);
CREATE INDEX idx_outbox_events_pending ON main.outbox_events (seq)
  WHERE published_on IS NULL;

-- External tasks whose command has committed its work: a retry of the same
-- external task (its completion was lost) completes it without doing the
-- work twice.
CREATE TABLE main.command_runs (
  external_task_id  varchar(255) PRIMARY KEY,
  topic             varchar(255) NOT NULL,
  created_on        timestamptz NOT NULL DEFAULT now()
);
