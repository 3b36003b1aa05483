-- Tables of the HTTP connector: client apps and their webhook subscriptions.
CREATE SCHEMA IF NOT EXISTS main;

CREATE TABLE main.client_apps (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          varchar(255) NOT NULL,
  api_key       varchar(512) NOT NULL UNIQUE,
  api_secret    varchar(512) NOT NULL,
  created_on    timestamptz NOT NULL DEFAULT now(),
  modified_on   timestamptz NOT NULL DEFAULT now(),
  created_by    varchar(255),
  modified_by   varchar(255),
  deleted       boolean NOT NULL DEFAULT false,
  deleted_on    timestamptz,
  deleted_by    varchar(255)
);

CREATE TABLE main.webhook_subscriptions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key             varchar(255) NOT NULL,
  url             text NOT NULL,
  client_app_id   uuid NOT NULL REFERENCES main.client_apps (id) ON DELETE CASCADE,
  created_on      timestamptz NOT NULL DEFAULT now(),
  modified_on     timestamptz NOT NULL DEFAULT now(),
  created_by      varchar(255),
  modified_by     varchar(255),
  deleted         boolean NOT NULL DEFAULT false,
  deleted_on      timestamptz,
  deleted_by      varchar(255)
);
-- Subscribing twice is one subscription.
CREATE UNIQUE INDEX uq_webhook_subscriptions_client_key_url
  ON main.webhook_subscriptions (client_app_id, key, url) WHERE NOT deleted;
CREATE INDEX idx_webhook_subscriptions_key ON main.webhook_subscriptions (key);
