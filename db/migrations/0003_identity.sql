-- Identity: users (mobile + argon2 password, payment PIN, lockouts, real-name level) and opaque
-- sessions stored as sha256 of the token (a leaked table holds no usable token).

CREATE TABLE identity_users (
  id                     text COLLATE "C" PRIMARY KEY,
  mobile                 text NOT NULL UNIQUE CHECK (mobile ~ '^1[3-9][0-9]{9}$'),
  display_name           text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 40),
  password_hash          text NOT NULL,
  pin_hash               text,
  wallet_account_id      text COLLATE "C" NOT NULL UNIQUE,
  -- Real name and a masked ID number only; the full ID number is kept as a keyed hash.
  real_name              text,
  id_number_masked       text,
  id_number_hash         text UNIQUE,
  real_name_verified_at  timestamptz,
  failed_logins          integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  login_locked_until     timestamptz,
  failed_pins            integer NOT NULL DEFAULT 0 CHECK (failed_pins >= 0),
  pin_locked_until       timestamptz,
  created_at             timestamptz NOT NULL,
  CHECK ((real_name IS NULL) = (real_name_verified_at IS NULL))
);

CREATE TABLE identity_sessions (
  token_sha256  text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  user_id       text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX identity_sessions_user ON identity_sessions (user_id);
