-- Credit with real consent (issue 6): partners, grants that only an explicit act creates, the
-- log of every read of a user's data, credit scores, deposit-free rentals, annual bill share links.

-- Partners registered by operators: who may ask, for what, and the score they require.
CREATE TABLE credit_partners (
  id               text COLLATE "C" PRIMARY KEY,
  name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
  kind             text NOT NULL CHECK (kind IN ('bike', 'hotel', 'power_bank', 'rental', 'lender', 'other')),
  purposes         text[] NOT NULL,
  score_threshold  integer NOT NULL CHECK (score_threshold BETWEEN 350 AND 950),
  -- sha256 of the partner's API key (the key is shown once, at registration).
  key_sha256       text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
  -- Where deposits held for this partner and damage charges go: its own ledger account.
  account_id       text NOT NULL,
  created_by       text COLLATE "C" NOT NULL REFERENCES operator_accounts (id),
  created_at       timestamptz NOT NULL,
  disabled_at      timestamptz
);

-- A grant exists only because the user agreed to a named text: its hash is kept with it.
CREATE TABLE consent_grants (
  id            text COLLATE "C" PRIMARY KEY,
  user_id       text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  purpose       text NOT NULL CHECK (purpose ~ '^[a-z_]+(\.[a-z_]+)+$'),
  partner_id    text COLLATE "C" REFERENCES credit_partners (id),
  text_version  integer NOT NULL,
  text_sha256   text NOT NULL CHECK (text_sha256 ~ '^[0-9a-f]{64}$'),
  scope         jsonb NOT NULL,
  agreed_at     timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  CHECK (expires_at > agreed_at)
);
CREATE INDEX consent_grants_user ON consent_grants (user_id, purpose, partner_id);

-- Who read what of a user's data, for which purpose, under which grant; refusals too.
CREATE TABLE data_access_log (
  id            bigserial PRIMARY KEY,
  user_id       text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  accessor_kind text NOT NULL CHECK (accessor_kind IN ('partner', 'feature', 'public')),
  accessor_id   text NOT NULL,
  accessor_name text NOT NULL,
  purpose       text NOT NULL,
  grant_id      text COLLATE "C" REFERENCES consent_grants (id),
  data          text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('allowed', 'refused')),
  reason        text,
  at            timestamptz NOT NULL,
  CHECK ((outcome = 'allowed') <= (grant_id IS NOT NULL))
);
CREATE INDEX data_access_log_user ON data_access_log (user_id, at DESC);

-- The last computed score of each user, with its factors (recomputed when stale or after events).
CREATE TABLE credit_scores (
  user_id      text COLLATE "C" PRIMARY KEY REFERENCES identity_users (id),
  score        integer NOT NULL CHECK (score BETWEEN 350 AND 950),
  factors      jsonb NOT NULL,
  computed_at  timestamptz NOT NULL,
  -- The newest payment the computation saw, and how many: a newer or another one makes it stale.
  seen_payment_at timestamptz,
  seen_payments   integer NOT NULL DEFAULT 0
);

-- Deposits partners asked for: waived (nothing held) or held on the user's balance.
CREATE TABLE credit_deposits (
  id             text COLLATE "C" PRIMARY KEY,
  partner_id     text COLLATE "C" NOT NULL REFERENCES credit_partners (id),
  user_id        text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
  description    text NOT NULL CHECK (char_length(description) BETWEEN 1 AND 100),
  request_key    text NOT NULL,
  request_sha256 text NOT NULL,
  status         text NOT NULL CHECK (status IN ('waived', 'held', 'returned', 'charged')),
  grant_id       text COLLATE "C" REFERENCES consent_grants (id),
  score          integer,
  hold_transfer_id text,
  charged_minor  bigint CHECK (charged_minor > 0),
  created_at     timestamptz NOT NULL,
  closed_at      timestamptz,
  CHECK ((status = 'waived') <= (grant_id IS NOT NULL)),
  CHECK ((status = 'held') <= (hold_transfer_id IS NOT NULL))
);
CREATE UNIQUE INDEX credit_deposits_request ON credit_deposits (partner_id, request_key);
CREATE INDEX credit_deposits_user ON credit_deposits (user_id, created_at DESC);

-- Annual bill share links: alive only while the grant behind them is.
CREATE TABLE annual_bill_shares (
  token_sha256   text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  user_id        text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  year           integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  grant_id       text COLLATE "C" NOT NULL REFERENCES consent_grants (id),
  score_grant_id text COLLATE "C" REFERENCES consent_grants (id),
  created_at     timestamptz NOT NULL
);
CREATE INDEX annual_bill_shares_user ON annual_bill_shares (user_id, year);

-- Deposits show in the user's bill: held, released, charged, or waived (no money moved).
ALTER TABLE payments ADD COLUMN deposit_id text COLLATE "C" REFERENCES credit_deposits (id);
ALTER TABLE payments
  DROP CONSTRAINT payments_kind_known,
  ADD CONSTRAINT payments_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize', 'deposit_waived', 'deposit_hold', 'deposit_release', 'deposit_charge')),
  ADD CONSTRAINT payments_deposit_present CHECK ((kind LIKE 'deposit%') = (deposit_id IS NOT NULL));
ALTER TABLE payments_bills
  DROP CONSTRAINT payments_bills_kind_known,
  ADD CONSTRAINT payments_bills_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize', 'deposit_waived', 'deposit_hold', 'deposit_release', 'deposit_charge'));
