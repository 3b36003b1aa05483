-- Tables of the HTTP connector: client apps and their webhook subscriptions.
-- Types as in the core migration (see its notes).

CREATE TABLE client_apps (
  id            CHAR(36) NOT NULL DEFAULT (UUID()),
  name          VARCHAR(255) NOT NULL,
  api_key       VARCHAR(512) NOT NULL,
  api_secret    VARCHAR(512) NOT NULL,
  created_on    DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on   DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  created_by    VARCHAR(255),
  modified_by   VARCHAR(255),
  deleted       TINYINT(1) NOT NULL DEFAULT 0,
  deleted_on    DATETIME(3),
  deleted_by    VARCHAR(255),
  PRIMARY KEY (id),
  UNIQUE KEY client_apps_api_key_key (api_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE webhook_subscriptions (
  id              CHAR(36) NOT NULL DEFAULT (UUID()),
  `key`           VARCHAR(255) NOT NULL,
  url             LONGTEXT NOT NULL,
  client_app_id   CHAR(36) NOT NULL,
  created_on      DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on     DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  created_by      VARCHAR(255),
  modified_by     VARCHAR(255),
  deleted         TINYINT(1) NOT NULL DEFAULT 0,
  deleted_on      DATETIME(3),
  deleted_by      VARCHAR(255),
  -- A LONGTEXT cannot be part of a key; its SHA-256 stands in for it.
  url_hash        CHAR(64) GENERATED ALWAYS AS (SHA2(url, 256)) STORED,
  -- 1 while live, NULL once soft-deleted (NULLs never collide in a key).
  not_deleted     TINYINT(1) GENERATED ALWAYS AS (CASE WHEN deleted THEN NULL ELSE 1 END) STORED,
  PRIMARY KEY (id),
  -- Subscribing twice is one subscription.
  UNIQUE KEY uq_webhook_subscriptions_client_key_url
    (client_app_id, `key`, url_hash, not_deleted),
  KEY idx_webhook_subscriptions_key (`key`),
  CONSTRAINT webhook_subscriptions_client_app_id_fkey FOREIGN KEY (client_app_id)
    REFERENCES client_apps (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
