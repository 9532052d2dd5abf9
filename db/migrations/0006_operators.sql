-- Operator accounts for the console at /admin: separate from wallet users (a user's session opens
-- nothing here), with their own argon2 passwords and hashed session tokens.

CREATE TABLE operator_accounts (
  id             text COLLATE "C" PRIMARY KEY,
  username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z][a-z0-9_.-]{2,31}$'),
  display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 40),
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  failed_logins  integer NOT NULL DEFAULT 0,
  locked_until   timestamptz,
  created_at     timestamptz NOT NULL,
  disabled_at    timestamptz
);

CREATE TABLE operator_sessions (
  token_sha256  text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  operator_id   text COLLATE "C" NOT NULL REFERENCES operator_accounts (id),
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
