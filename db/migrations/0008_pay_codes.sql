-- The user's payment code (付款码): 18 digits starting 28, shown by the payer and read by a shop.
-- Only its sha256 is kept. A code lives one minute, is used once, and a newer code retires the
-- older ones. A shop's charge consumes the code; above the no-PIN amount it waits for the payer
-- to confirm with the PIN in the app (or decline) for 5 minutes. Money moves only as a shop
-- payment through the payments pipeline (kind 'shop').

CREATE TABLE payments_pay_codes (
  code_sha256  text PRIMARY KEY CHECK (code_sha256 ~ '^[0-9a-f]{64}$'),
  user_id      text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  retired_at   timestamptz,
  CHECK (expires_at > created_at)
);
CREATE INDEX payments_pay_codes_user ON payments_pay_codes (user_id, created_at DESC);
CREATE INDEX payments_pay_codes_created ON payments_pay_codes (created_at);

CREATE TABLE payments_code_charges (
  id             text COLLATE "C" PRIMARY KEY,
  shop_id        text COLLATE "C" NOT NULL REFERENCES payments_shops (id),
  payer_user_id  text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  -- One charge per code.
  code_sha256    text NOT NULL UNIQUE REFERENCES payments_pay_codes (code_sha256),
  amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
  status         text NOT NULL CHECK (status IN ('paying', 'awaiting_pin', 'paid', 'failed', 'declined')),
  -- The shop's Idempotency-Key: a retry of the charge finds this row and resumes it.
  request_key    text NOT NULL,
  payment_id     text COLLATE "C" REFERENCES payments (id),
  failure_code   text,
  created_at     timestamptz NOT NULL,
  -- Until when the payer may confirm a charge that needs the PIN.
  confirm_by     timestamptz NOT NULL,
  completed_at   timestamptz,
  UNIQUE (shop_id, request_key),
  CHECK ((status = 'paid') = (payment_id IS NOT NULL)),
  CHECK ((status = 'failed') = (failure_code IS NOT NULL))
);
CREATE INDEX payments_code_charges_payer ON payments_code_charges (payer_user_id, created_at DESC);
