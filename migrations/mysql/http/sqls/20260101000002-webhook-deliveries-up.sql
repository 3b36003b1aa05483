-- Durable webhook delivery: one row per (outgoing event, subscription), and
-- one row per POST attempt. Workers claim due rows with FOR UPDATE SKIP LOCKED
-- (MySQL 8.0.1+, MariaDB 10.6+).
CREATE TABLE webhook_deliveries (
  id               CHAR(36) NOT NULL DEFAULT (UUID()),
  -- NULL once the subscription row is removed for real; url and client stay.
  subscription_id  CHAR(36),
  client_app_id    CHAR(36) NOT NULL,
  url              LONGTEXT NOT NULL,
  event_key        VARCHAR(255) NOT NULL,
  -- The event JSON exactly as published: a LONGTEXT keeps the text verbatim
  -- (MySQL's native JSON would not), so it is the byte string that is signed
  -- and sent.
  event            LONGTEXT NOT NULL CHECK (JSON_VALID(event)),
  status           VARCHAR(16) NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'delivered', 'dead')),
  -- Attempts since the delivery was (re)queued; compared with maxAttempts.
  attempts         INT NOT NULL DEFAULT 0,
  -- All attempts ever made; numbers the rows of webhook_delivery_attempts.
  total_attempts   INT NOT NULL DEFAULT 0,
  next_attempt_on  DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  -- A worker's claim: nobody else takes the row before this time.
  locked_until     DATETIME(3),
  lock_token       CHAR(36),
  last_status_code INT,
  last_error       LONGTEXT,
  created_on       DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  modified_on      DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  delivered_on     DATETIME(3),
  PRIMARY KEY (id),
  -- The workers' claim query: due pending rows in next_attempt_on order
  -- (PostgreSQL: on next_attempt_on, partial on status = 'pending').
  KEY idx_webhook_deliveries_due (status, next_attempt_on),
  -- A client's deliveries, newest first, optionally by status. DESC is
  -- honoured by MySQL 8 and MariaDB 10.8+, parsed and ignored before.
  KEY idx_webhook_deliveries_client (client_app_id, status, created_on DESC),
  -- InnoDB needs an index on a foreign key; named here rather than implied.
  KEY idx_webhook_deliveries_subscription_id (subscription_id),
  CONSTRAINT webhook_deliveries_subscription_id_fkey FOREIGN KEY (subscription_id)
    REFERENCES webhook_subscriptions (id) ON DELETE SET NULL,
  CONSTRAINT webhook_deliveries_client_app_id_fkey FOREIGN KEY (client_app_id)
    REFERENCES client_apps (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE webhook_delivery_attempts (
  id           CHAR(36) NOT NULL DEFAULT (UUID()),
  delivery_id  CHAR(36) NOT NULL,
  attempt_no   INT NOT NULL,
  -- NULL when no HTTP response came (refused, timed out, ...).
  status_code  INT,
  error        LONGTEXT,
  duration_ms  INT NOT NULL,
  -- Which worker instance made the attempt.
  worker       VARCHAR(255),
  attempted_on DATETIME(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
  PRIMARY KEY (id),
  KEY idx_webhook_delivery_attempts_delivery (delivery_id, attempt_no),
  CONSTRAINT webhook_delivery_attempts_delivery_id_fkey FOREIGN KEY (delivery_id)
    REFERENCES webhook_deliveries (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
