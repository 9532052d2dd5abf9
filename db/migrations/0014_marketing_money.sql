-- The marketing engine's money: each campaign's budget is a ledger account (no overdraft) funded
-- at activation; a discount is a second leg in the payment's linked group, from that account to
-- whoever the payment credits. The payment row keeps what was discounted and by which campaign,
-- so the bill shows it and the breaker, the dry run and the incident report read spend from it.

ALTER TABLE marketing_campaigns
  -- What has been funded is the ledger's to say: the account's posted credits (see funds.ts).
  ADD COLUMN budget_account_id text COLLATE "C",
  -- The rollout stage; its test list is part of the definition (testUserIds), so it is versioned.
  ADD COLUMN stage text NOT NULL DEFAULT 'test_list' CHECK (stage IN ('test_list', 'pct1', 'pct10', 'pct100')),
  -- The last dry run: spend per minute, scene mix, sample size (JSON; money as digit strings).
  ADD COLUMN forecast jsonb,
  ADD COLUMN paused_at timestamptz,
  ADD COLUMN paused_by text;

-- Breaker trips, pauses, resumes, promotions and the kill switch: what the console shows as why.
CREATE TABLE marketing_events (
  id           bigserial PRIMARY KEY,
  campaign_id  text COLLATE "C" REFERENCES marketing_campaigns (id),
  kind         text NOT NULL CHECK (kind IN ('activated', 'breaker', 'paused', 'resumed', 'promoted', 'ended', 'kill_switch')),
  detail       jsonb NOT NULL,
  actor        text NOT NULL,
  created_at   timestamptz NOT NULL
);
CREATE INDEX marketing_events_campaign ON marketing_events (campaign_id, created_at DESC);

-- Per-user limits, reserved atomically before the money moves (count and amount, per Asia/Shanghai
-- day and per campaign); a payment that fails gives its reservation back.
CREATE TABLE marketing_usage (
  campaign_id   text COLLATE "C" NOT NULL REFERENCES marketing_campaigns (id),
  user_id       text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  day           date NOT NULL,
  count_today   integer NOT NULL CHECK (count_today >= 0),
  minor_today   bigint NOT NULL CHECK (minor_today >= 0),
  count_total   integer NOT NULL CHECK (count_total >= 0),
  minor_total   bigint NOT NULL CHECK (minor_total >= 0),
  -- What the last reservation took (RETURNING reads it).
  last_minor    bigint NOT NULL CHECK (last_minor >= 0),
  PRIMARY KEY (campaign_id, user_id)
);

-- Vouchers: issued to a user by a voucher campaign, used once at checkout (or expired).
CREATE TABLE marketing_vouchers (
  id            text COLLATE "C" PRIMARY KEY,
  campaign_id   text COLLATE "C" NOT NULL REFERENCES marketing_campaigns (id),
  user_id       text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
  min_spend_minor bigint NOT NULL CHECK (min_spend_minor > amount_minor),
  status        text NOT NULL CHECK (status IN ('issued', 'used')),
  -- The request that used it: a retry of that request finds it used by itself.
  used_by_key   text,
  issued_at     timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz,
  -- The issuance request: issuing the same batch again issues nothing more.
  issue_key     text NOT NULL,
  CHECK ((status = 'used') = (used_at IS NOT NULL))
);
CREATE UNIQUE INDEX marketing_vouchers_issue ON marketing_vouchers (campaign_id, user_id, issue_key);
CREATE INDEX marketing_vouchers_user ON marketing_vouchers (user_id, status, expires_at);

ALTER TABLE payments
  -- The price before the discount is amount_minor + discount_minor; the payer paid amount_minor.
  ADD COLUMN discount_minor bigint CHECK (discount_minor > 0),
  ADD COLUMN campaign_id text COLLATE "C" REFERENCES marketing_campaigns (id),
  ADD COLUMN discount_label text,
  ADD COLUMN voucher_id text COLLATE "C" REFERENCES marketing_vouchers (id),
  ADD COLUMN budget_account_id text,
  -- Which payment scene the payment was (what the deny-by-default rules and the breaker see).
  ADD COLUMN scene text CHECK (scene IN ('shop_qr', 'payment_code', 'online_bill', 'p2p_transfer', 'card_repayment', 'topup')),
  ADD CONSTRAINT payments_discount_whole CHECK (
    (discount_minor IS NULL) = (campaign_id IS NULL) AND (campaign_id IS NULL) = (discount_label IS NULL)
    AND (campaign_id IS NULL) = (budget_account_id IS NULL) AND (campaign_id IS NULL OR scene IS NOT NULL));
CREATE INDEX payments_campaign ON payments (campaign_id, created_at) WHERE campaign_id IS NOT NULL;
