-- Merchants (shops) are payments: a shop is a ledger account (code 'merchant', no overdraft) owned
-- by one user; a customer pays it from their wallet through the payments pipeline (kind 'shop'),
-- by its static receive code or by a dynamic order's code; its owner refunds from the shop account
-- (kind 'refund'), never more in all than the payment. Money lives only in the ledger.

CREATE TABLE payments_shops (
  id             text COLLATE "C" PRIMARY KEY,
  -- One shop per user.
  owner_user_id  text COLLATE "C" NOT NULL UNIQUE REFERENCES identity_users (id),
  name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
  account_id     text COLLATE "C" NOT NULL UNIQUE,
  created_at     timestamptz NOT NULL
);

-- A dynamic order: a fixed amount, payable once, until it expires.
CREATE TABLE payments_shop_orders (
  id            text COLLATE "C" PRIMARY KEY,
  shop_id       text COLLATE "C" NOT NULL REFERENCES payments_shops (id),
  amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
  note          text CHECK (char_length(note) BETWEEN 1 AND 50),
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL,
  CHECK (expires_at > created_at)
);
CREATE INDEX payments_shop_orders_shop ON payments_shop_orders (shop_id, created_at);

ALTER TABLE payments
  ADD COLUMN shop_id text COLLATE "C" REFERENCES payments_shops (id),
  ADD COLUMN shop_order_id text COLLATE "C" REFERENCES payments_shop_orders (id),
  -- A refund's original shop payment.
  ADD COLUMN refund_of_payment_id text COLLATE "C" REFERENCES payments (id);

-- The kind checks of 0004 name only the first three kinds; replace them (whatever PostgreSQL
-- named them) with ones that know shop payments.
DO $$
DECLARE
  found record;
BEGIN
  FOR found IN
    SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint
    WHERE conrelid IN ('payments'::regclass, 'payments_bills'::regclass)
      AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%p2p%'
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', found.tbl, found.conname);
  END LOOP;
END $$;

ALTER TABLE payments
  ADD CONSTRAINT payments_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund')),
  ADD CONSTRAINT payments_payee_present CHECK ((kind IN ('p2p', 'shop', 'refund')) = (payee_user_id IS NOT NULL)),
  ADD CONSTRAINT payments_card_present CHECK ((kind IN ('p2p', 'shop', 'refund')) = (card_id IS NULL)),
  ADD CONSTRAINT payments_shop_present CHECK ((kind IN ('shop', 'refund')) = (shop_id IS NOT NULL)),
  ADD CONSTRAINT payments_order_of_shop CHECK (shop_order_id IS NULL OR kind = 'shop'),
  ADD CONSTRAINT payments_refund_of CHECK ((kind = 'refund') = (refund_of_payment_id IS NOT NULL));
ALTER TABLE payments_bills
  ADD CONSTRAINT payments_bills_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund'));

-- An order is paid at most once: one live (pending or succeeded) payment per order.
CREATE UNIQUE INDEX payments_shop_order_paid ON payments (shop_order_id)
  WHERE shop_order_id IS NOT NULL AND status <> 'failed';
CREATE INDEX payments_shop_time ON payments (shop_id, created_at) WHERE shop_id IS NOT NULL;
CREATE INDEX payments_refunds ON payments (refund_of_payment_id) WHERE refund_of_payment_id IS NOT NULL;
