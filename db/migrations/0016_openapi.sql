-- The open platform (issue 7): ISV apps with their keys, trades made through the Alipay-compatible
-- gateway, their refunds, payouts, and the notifications sent to the apps.

CREATE TABLE openapi_apps (
  app_id            text COLLATE "C" PRIMARY KEY CHECK (app_id ~ '^[0-9]{16}$'),
  name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
  -- The merchant behind the app: a shop, whose account trades pay into and refunds come from.
  shop_id           text COLLATE "C" NOT NULL REFERENCES payments_shops (id),
  app_public_key    text NOT NULL,
  -- The platform key pair of this app (PKCS#8 private, SPKI public): it signs responses and notifications.
  platform_private_key text NOT NULL,
  platform_public_key  text NOT NULL,
  notify_urls       text[] NOT NULL DEFAULT '{}',
  rate_per_second   integer NOT NULL CHECK (rate_per_second BETWEEN 1 AND 100000),
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL,
  disabled_at       timestamptz
);

CREATE TABLE openapi_trades (
  trade_no        text COLLATE "C" PRIMARY KEY CHECK (trade_no ~ '^[0-9]{28}$'),
  app_id          text COLLATE "C" NOT NULL REFERENCES openapi_apps (app_id),
  out_trade_no    text COLLATE "C" NOT NULL CHECK (out_trade_no ~ '^[A-Za-z0-9_]{1,64}$'),
  method          text NOT NULL,
  total_minor     bigint NOT NULL CHECK (total_minor > 0),
  subject         text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 256),
  body            text,
  -- The fields that make the same out_trade_no the same trade (amount, subject, buyer, code).
  content_sha256  text NOT NULL,
  status          text NOT NULL CHECK (status IN ('WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'TRADE_CLOSED', 'TRADE_FINISHED')),
  buyer_user_id   text COLLATE "C" REFERENCES identity_users (id),
  -- When a buyer started paying at the cashier (a claim a stopped request may leave behind).
  claimed_at      timestamptz,
  payment_id      text COLLATE "C" REFERENCES payments (id),
  charge_id       text COLLATE "C",
  refunded_minor  bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor),
  notify_url      text,
  return_url      text,
  expires_at      timestamptz NOT NULL,
  created_at      timestamptz NOT NULL,
  paid_at         timestamptz,
  closed_at       timestamptz
);
CREATE UNIQUE INDEX openapi_trades_out ON openapi_trades (app_id, out_trade_no);
CREATE INDEX openapi_trades_open ON openapi_trades (expires_at) WHERE status = 'WAIT_BUYER_PAY';
CREATE INDEX openapi_trades_paid ON openapi_trades (paid_at) WHERE status = 'TRADE_SUCCESS';

CREATE TABLE openapi_refunds (
  trade_no        text COLLATE "C" NOT NULL REFERENCES openapi_trades (trade_no),
  out_request_no  text COLLATE "C" NOT NULL CHECK (out_request_no ~ '^[A-Za-z0-9_]{1,64}$'),
  amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
  reason          text,
  payment_id      text COLLATE "C" NOT NULL REFERENCES payments (id),
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (trade_no, out_request_no)
);

CREATE TABLE openapi_transfers (
  app_id          text COLLATE "C" NOT NULL REFERENCES openapi_apps (app_id),
  out_biz_no      text COLLATE "C" NOT NULL CHECK (out_biz_no ~ '^[A-Za-z0-9_]{1,64}$'),
  order_id        text COLLATE "C" NOT NULL UNIQUE,
  content_sha256  text NOT NULL,
  payee_user_id   text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
  ledger_transfer_id text NOT NULL,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (app_id, out_biz_no)
);

-- Notifications: one row per event, delivered until the app answers `success`, on Alipay's schedule.
CREATE TABLE openapi_notifications (
  notify_id       text COLLATE "C" PRIMARY KEY,
  app_id          text COLLATE "C" NOT NULL REFERENCES openapi_apps (app_id),
  trade_no        text COLLATE "C" NOT NULL,
  event           text NOT NULL,
  url             text NOT NULL,
  -- The notification's fields before signing (notify_time and the signature are added per attempt).
  fields          jsonb NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_at         timestamptz NOT NULL,
  last_status     integer,
  last_body       text,
  last_at         timestamptz,
  created_at      timestamptz NOT NULL
);
CREATE INDEX openapi_notifications_due ON openapi_notifications (next_at) WHERE status = 'pending';
CREATE INDEX openapi_notifications_app ON openapi_notifications (app_id, created_at DESC);

-- The Alipay-style user ids the platform has shown (2088 + 12 digits), to find the user again.
CREATE TABLE openapi_buyers (
  buyer_id  text COLLATE "C" PRIMARY KEY CHECK (buyer_id ~ '^2088[0-9]{12}$'),
  user_id   text COLLATE "C" NOT NULL UNIQUE REFERENCES identity_users (id)
);

-- Payouts to wallet users (alipay.fund.trans.uni.transfer) are bills too.
ALTER TABLE payments ADD COLUMN openapi_app_id text COLLATE "C" REFERENCES openapi_apps (app_id);
ALTER TABLE payments
  DROP CONSTRAINT payments_kind_known,
  ADD CONSTRAINT payments_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize', 'deposit_waived', 'deposit_hold', 'deposit_release', 'deposit_charge', 'openapi_payout')),
  ADD CONSTRAINT payments_payout_present CHECK ((kind = 'openapi_payout') = (openapi_app_id IS NOT NULL));
ALTER TABLE payments_bills
  DROP CONSTRAINT payments_bills_kind_known,
  ADD CONSTRAINT payments_bills_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize', 'deposit_waived', 'deposit_hold', 'deposit_release', 'deposit_charge', 'openapi_payout'));
