-- Durable webhook delivery: one row per (outgoing event, subscription), and
-- one row per POST attempt. Workers claim due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE main.webhook_deliveries (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL once the subscription row is removed for real; url and client stay.
  subscription_id  uuid REFERENCES main.webhook_subscriptions (id) ON DELETE SET NULL,
  client_app_id    uuid NOT NULL REFERENCES main.client_apps (id) ON DELETE CASCADE,
  url              text NOT NULL,
  event_key        varchar(255) NOT NULL,
  -- The event JSON exactly as published; `json` keeps the text verbatim, so
  -- event::text is the byte string that is signed and sent.
  event            json NOT NULL,
  status           varchar(16) NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'delivered', 'dead')),
  -- Attempts since the delivery was (re)queued; compared with maxAttempts.
  attempts         integer NOT NULL DEFAULT 0,
  -- All attempts ever made; numbers the rows of webhook_delivery_attempts.
  total_attempts   integer NOT NULL DEFAULT 0,
  next_attempt_on  timestamptz NOT NULL DEFAULT now(),
  -- A worker's claim: nobody else takes the row before this time.
  locked_until     timestamptz,
  lock_token       uuid,
  last_status_code integer,
  last_error       text,
  created_on       timestamptz NOT NULL DEFAULT now(),
  modified_on      timestamptz NOT NULL DEFAULT now(),
  delivered_on     timestamptz
);
-- The workers' claim query: due pending rows in next_attempt_on order.
CREATE INDEX idx_webhook_deliveries_due
  ON main.webhook_deliveries (next_attempt_on) WHERE status = 'pending';
-- A client's deliveries, newest first, optionally by status.
CREATE INDEX idx_webhook_deliveries_client
  ON main.webhook_deliveries (client_app_id, status, created_on DESC);

CREATE TABLE main.webhook_delivery_attempts (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  delivery_id  uuid NOT NULL REFERENCES main.webhook_deliveries (id) ON DELETE CASCADE,
  attempt_no   integer NOT NULL,
  -- NULL when no HTTP response came (refused, timed out, ...).
  status_code  integer,
  error        text,
  duration_ms  integer NOT NULL,
  -- Which worker instance made the attempt.
  worker       varchar(255),
  attempted_on timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_webhook_delivery_attempts_delivery
  ON main.webhook_delivery_attempts (delivery_id, attempt_no);
