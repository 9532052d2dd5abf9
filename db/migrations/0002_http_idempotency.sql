-- HTTP Idempotency-Key records (STYLE.md "Idempotency"). One row per (principal, route, key): the
-- sha256 of the canonical request body, and once the request completes its status and response,
-- which a replay returns verbatim. Rows are kept at least 24 h, then pruned by the server's loop.

CREATE TABLE http_idempotency_keys (
  principal       text NOT NULL,
  route           text NOT NULL,
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_sha256  text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
  state           text NOT NULL CHECK (state IN ('in_flight', 'completed')),
  -- Bumped when a stale in-flight attempt (a crashed request) is taken over, so the old attempt
  -- can no longer complete or release the row.
  attempt         integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
  status_code     integer CHECK (status_code BETWEEN 100 AND 599),
  content_type    text,
  response_body   text,
  created_at      timestamptz NOT NULL,
  -- When the current attempt started; an in-flight row older than the takeover age is stale.
  locked_at       timestamptz NOT NULL,
  completed_at    timestamptz,
  PRIMARY KEY (principal, route, key),
  CHECK ((state = 'completed') = (status_code IS NOT NULL)),
  CHECK ((state = 'completed') = (response_body IS NOT NULL)),
  CHECK ((state = 'completed') = (completed_at IS NOT NULL))
);
CREATE INDEX http_idempotency_keys_created ON http_idempotency_keys (created_at);
