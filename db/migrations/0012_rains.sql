-- The hourly rain (整点红包): an operator schedules a pool, funded from the campaign budget
-- account into the rain's own escrow, split into prizes when scheduled (line-cutting or
-- double-mean) and released evenly over the window: prize i may be won from
-- starts_at + i × duration / count. Users tap; a tap wins the next released prize or nothing.
-- Wins are paid from escrow (payments of kind 'rain_prize'); what is left when the window ends
-- goes back to the budget once. Money lives only in the ledger.

CREATE TABLE redpacket_rains (
  id                  text COLLATE "C" PRIMARY KEY,
  name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
  mode                text NOT NULL CHECK (mode IN ('line_cut', 'double_mean')),
  budget_account_id   text COLLATE "C" NOT NULL,
  escrow_account_id   text COLLATE "C" NOT NULL UNIQUE,
  pool_minor          bigint NOT NULL CHECK (pool_minor > 0),
  prize_count         integer NOT NULL CHECK (prize_count > 0),
  starts_at           timestamptz NOT NULL,
  ends_at             timestamptz NOT NULL,
  -- Each user's start is starts_at plus a hash of their id within this window (so the first
  -- second is not a cliff).
  stagger_ms          integer NOT NULL CHECK (stagger_ms >= 0),
  per_user_wins_max   integer NOT NULL CHECK (per_user_wins_max > 0),
  per_user_minor_max  bigint NOT NULL CHECK (per_user_minor_max > 0),
  -- A winner may hand a fission packet of this many shares and this amount to friends (0: none).
  fission_shares      integer NOT NULL CHECK (fission_shares >= 0),
  fission_minor       bigint NOT NULL CHECK (fission_minor >= 0),
  split_sha256        text NOT NULL CHECK (split_sha256 ~ '^[0-9a-f]{64}$'),
  status              text NOT NULL CHECK (status IN ('scheduled', 'closed', 'refunded')),
  created_by          text COLLATE "C" NOT NULL REFERENCES operator_accounts (id),
  created_at          timestamptz NOT NULL,
  refund_minor        bigint CHECK (refund_minor >= 0),
  refunded_at         timestamptz,
  CHECK (ends_at > starts_at),
  CHECK (pool_minor >= prize_count),
  CHECK ((status = 'scheduled') = (refund_minor IS NULL)),
  CHECK ((status = 'refunded') = (refunded_at IS NOT NULL))
);
CREATE INDEX redpacket_rains_due ON redpacket_rains (ends_at) WHERE status IN ('scheduled', 'closed');
CREATE INDEX redpacket_rains_time ON redpacket_rains (starts_at DESC);

CREATE TABLE redpacket_rain_prizes (
  rain_id       text COLLATE "C" NOT NULL REFERENCES redpacket_rains (id),
  seq           integer NOT NULL CHECK (seq >= 0),
  amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
  release_at    timestamptz NOT NULL,
  won_by        text COLLATE "C" REFERENCES identity_users (id),
  won_at        timestamptz,
  settled_at    timestamptz,
  refunded_at   timestamptz,
  PRIMARY KEY (rain_id, seq),
  CHECK ((won_by IS NULL) = (won_at IS NULL)),
  CHECK (settled_at IS NULL OR won_by IS NOT NULL),
  CHECK (won_by IS NULL OR refunded_at IS NULL)
);
CREATE INDEX redpacket_rain_prizes_open ON redpacket_rain_prizes (rain_id, seq) WHERE won_by IS NULL AND refunded_at IS NULL;
CREATE INDEX redpacket_rain_prizes_unsettled ON redpacket_rain_prizes (won_at) WHERE won_by IS NOT NULL AND settled_at IS NULL;
CREATE INDEX redpacket_rain_prizes_winner ON redpacket_rain_prizes (rain_id, won_by) WHERE won_by IS NOT NULL;

-- A fission packet is a red packet funded by a rain's campaign and handed on by a winner: it is
-- open to the winner's friends, and its unclaimed rest goes back to the campaign budget.
ALTER TABLE redpackets
  ADD COLUMN fission_of_rain_id text COLLATE "C" REFERENCES redpacket_rains (id),
  -- Where the money came from, and where the rest goes back: the sender's wallet, or a budget.
  ADD COLUMN funding_account_id text COLLATE "C";
ALTER TABLE redpackets DROP CONSTRAINT redpackets_friend_or_group;
ALTER TABLE redpackets
  ADD CONSTRAINT redpackets_one_target CHECK (
    (fission_of_rain_id IS NULL AND (to_user_id IS NULL) <> (group_id IS NULL))
    OR (fission_of_rain_id IS NOT NULL AND to_user_id IS NULL AND group_id IS NULL));
-- One fission packet per win: the winner's request is the prize it came from.
CREATE UNIQUE INDEX redpackets_fission_win ON redpackets (fission_of_rain_id, request_key) WHERE fission_of_rain_id IS NOT NULL;

ALTER TABLE payments ADD COLUMN rain_id text COLLATE "C" REFERENCES redpacket_rains (id);
ALTER TABLE payments
  DROP CONSTRAINT payments_kind_known,
  ADD CONSTRAINT payments_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize')),
  ADD CONSTRAINT payments_rain_present CHECK ((kind = 'rain_prize') = (rain_id IS NOT NULL));
ALTER TABLE payments_bills
  DROP CONSTRAINT payments_bills_kind_known,
  ADD CONSTRAINT payments_bills_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize'));
