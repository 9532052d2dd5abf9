-- Payments: bound bank cards (simulated), payments (top-up, withdrawal, P2P transfer) and each
-- user's bill lines. Money lives only in the ledger; a payment row records the intent before any
-- money moves (status pending) and its outcome after. Its ledger transfer id is derived from the
-- request (user, kind, Idempotency-Key), so however often a request is retried, and whatever
-- happens to the rows of its attempts, the ledger moves its money once (src/payments/service.ts).

CREATE TABLE payments_cards (
  id          text COLLATE "C" PRIMARY KEY,
  user_id     text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  bank        text NOT NULL CHECK (bank IN ('ICBC', 'CCB', 'ABC', 'BOC', 'CMB', 'BOCOM')),
  last4       text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  created_at  timestamptz NOT NULL,
  -- Unbinding keeps the row: old bills still name the card.
  unbound_at  timestamptz
);
CREATE UNIQUE INDEX payments_cards_bound ON payments_cards (user_id, bank, last4) WHERE unbound_at IS NULL;
CREATE INDEX payments_cards_user ON payments_cards (user_id, created_at);

CREATE TABLE payments (
  id                  text COLLATE "C" PRIMARY KEY,
  kind                text NOT NULL CHECK (kind IN ('topup', 'withdraw', 'p2p')),
  status              text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  -- Who asked and confirmed with the PIN: the payer of a transfer, the card holder otherwise.
  user_id             text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  payee_user_id       text COLLATE "C" REFERENCES identity_users (id),
  card_id             text COLLATE "C" REFERENCES payments_cards (id),
  debit_account_id    text NOT NULL,
  credit_account_id   text NOT NULL,
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  currency            text NOT NULL CHECK (currency = 'CNY'),
  memo                text CHECK (char_length(memo) BETWEEN 1 AND 50),
  -- The request's Idempotency-Key: a retry of the same request finds this row instead of paying again.
  request_key         text NOT NULL CHECK (length(request_key) BETWEEN 1 AND 255),
  request_sha256      text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
  -- Derived from (user, kind, Idempotency-Key): every attempt of one request shares it.
  ledger_transfer_id  text NOT NULL,
  -- The Asia/Shanghai day the payment counts toward for daily limits.
  day                 date NOT NULL,
  failure_code        text,
  failure_detail      text,
  created_at          timestamptz NOT NULL,
  completed_at        timestamptz,
  CHECK ((kind = 'p2p') = (payee_user_id IS NOT NULL)),
  CHECK ((kind = 'p2p') = (card_id IS NULL)),
  CHECK ((status = 'failed') = (failure_code IS NOT NULL)),
  CHECK ((status = 'pending') = (completed_at IS NULL))
);
-- One live payment per request; a failed one frees its key so a retry is judged anew (the ledger
-- keeps no trace of a failed transfer either).
CREATE UNIQUE INDEX payments_request ON payments (user_id, kind, request_key) WHERE status <> 'failed';
CREATE INDEX payments_user_day ON payments (user_id, day) WHERE status <> 'failed';
CREATE INDEX payments_pending ON payments (created_at) WHERE status = 'pending';

-- A payment as each of its users sees it: the payer and the payee of a transfer each get a line.
CREATE TABLE payments_bills (
  user_id                     text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  payment_id                  text COLLATE "C" NOT NULL REFERENCES payments (id),
  direction                   text NOT NULL CHECK (direction IN ('income', 'expense', 'neutral')),
  kind                        text NOT NULL CHECK (kind IN ('topup', 'withdraw', 'p2p')),
  amount_minor                bigint NOT NULL CHECK (amount_minor > 0),
  -- The other user as they were named when the payment was made, as a receipt would show.
  counterparty_user_id        text COLLATE "C",
  counterparty_name           text NOT NULL,
  counterparty_mobile_masked  text,
  created_at                  timestamptz NOT NULL,
  PRIMARY KEY (user_id, payment_id)
);
CREATE INDEX payments_bills_user_time ON payments_bills (user_id, created_at DESC, payment_id DESC);

-- One row per user, locked (FOR UPDATE) while a limited payment checks today's sums and records
-- itself, so two concurrent payments cannot both fit under a limit that only one fits under.
CREATE TABLE payments_user_guards (
  user_id  text COLLATE "C" PRIMARY KEY REFERENCES identity_users (id)
);
