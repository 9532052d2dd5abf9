-- Red packets between people (lucky and fixed). Sending pays the whole amount from the sender's
-- wallet into the packet's own escrow account in the ledger (a payment of kind 'redpacket');
-- the packet is split into shares when sent, shuffled, and stored here. A grab claims an open
-- share; settlement pays it from escrow to the grabber (a payment of kind 'redpacket_grab',
-- written by the ledger batch that moves the money, which also marks the share settled). When
-- the packet expires, the open shares are closed and their sum goes back to the sender once (a
-- payment of kind 'redpacket_refund'). Money lives only in the ledger.

CREATE TABLE redpackets (
  id                 text COLLATE "C" PRIMARY KEY,
  mode               text NOT NULL CHECK (mode IN ('lucky', 'fixed')),
  sender_user_id     text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  -- Exactly one of: a friend (one share) or a group.
  to_user_id         text COLLATE "C" REFERENCES identity_users (id),
  group_id           text COLLATE "C" REFERENCES social_groups (id),
  amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
  share_count        integer NOT NULL CHECK (share_count > 0),
  greeting           text NOT NULL CHECK (char_length(greeting) BETWEEN 1 AND 40),
  escrow_account_id  text COLLATE "C" NOT NULL UNIQUE,
  -- sha256 of the shares' amounts in their stored order (see src/redpacket/model.ts).
  split_sha256       text NOT NULL CHECK (split_sha256 ~ '^[0-9a-f]{64}$'),
  status             text NOT NULL CHECK (status IN ('funding', 'active', 'failed', 'expired', 'refunded')),
  -- The sender's Idempotency-Key: a retry finds this packet instead of sending another.
  request_key        text NOT NULL CHECK (length(request_key) BETWEEN 1 AND 255),
  request_sha256     text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
  failure_code       text,
  created_at         timestamptz NOT NULL,
  funded_at          timestamptz,
  expires_at         timestamptz NOT NULL,
  -- Set by the expiry sweep: what went back to the sender (0 when every share was grabbed).
  refund_minor       bigint CHECK (refund_minor >= 0),
  refunded_at        timestamptz,
  CONSTRAINT redpackets_friend_or_group CHECK ((to_user_id IS NULL) <> (group_id IS NULL)),
  CHECK (to_user_id IS NULL OR share_count = 1),
  CHECK (to_user_id IS NULL OR to_user_id <> sender_user_id),
  CHECK (amount_minor >= share_count),
  CHECK ((status = 'failed') = (failure_code IS NOT NULL)),
  CHECK ((status IN ('funding', 'failed')) = (funded_at IS NULL)),
  CHECK ((status IN ('expired', 'refunded')) = (refund_minor IS NOT NULL)),
  CHECK ((status = 'refunded') = (refunded_at IS NOT NULL))
);
CREATE UNIQUE INDEX redpackets_request ON redpackets (sender_user_id, request_key) WHERE status <> 'failed';
-- The expiry sweep walks due packets in time order (a range scan: the minute buckets that came due).
CREATE INDEX redpackets_due ON redpackets (expires_at) WHERE status IN ('active', 'expired');
CREATE INDEX redpackets_funding ON redpackets (created_at) WHERE status = 'funding';
CREATE INDEX redpackets_sender ON redpackets (sender_user_id, created_at DESC);
CREATE INDEX redpackets_friend ON redpackets (to_user_id, created_at DESC) WHERE to_user_id IS NOT NULL;
CREATE INDEX redpackets_group ON redpackets (group_id, created_at DESC) WHERE group_id IS NOT NULL;

-- The pre-split shares, in shuffled order (`seq`). A share is open, grabbed (then settled), or
-- closed by the expiry sweep (refunded): never both grabbed and refunded.
CREATE TABLE redpacket_shares (
  packet_id     text COLLATE "C" NOT NULL REFERENCES redpackets (id),
  seq           integer NOT NULL CHECK (seq >= 0),
  amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
  grabbed_by    text COLLATE "C" REFERENCES identity_users (id),
  grabbed_at    timestamptz,
  settled_at    timestamptz,
  refunded_at   timestamptz,
  PRIMARY KEY (packet_id, seq),
  CHECK ((grabbed_by IS NULL) = (grabbed_at IS NULL)),
  CHECK (settled_at IS NULL OR grabbed_by IS NOT NULL),
  CHECK (grabbed_by IS NULL OR refunded_at IS NULL)
);
-- The last guard: one grab per person per packet, whatever path claimed the share.
CREATE UNIQUE INDEX redpacket_shares_grabber ON redpacket_shares (packet_id, grabbed_by) WHERE grabbed_by IS NOT NULL;
CREATE INDEX redpacket_shares_open ON redpacket_shares (packet_id, seq) WHERE grabbed_by IS NULL AND refunded_at IS NULL;
CREATE INDEX redpacket_shares_unsettled ON redpacket_shares (grabbed_at) WHERE grabbed_by IS NOT NULL AND settled_at IS NULL;
CREATE INDEX redpacket_shares_received ON redpacket_shares (grabbed_by, grabbed_at DESC) WHERE grabbed_by IS NOT NULL;

-- Payments learn the three red packet kinds. None has a payee user or a card: the other side is
-- the packet's escrow account, named by redpacket_id.
ALTER TABLE payments ADD COLUMN redpacket_id text COLLATE "C" REFERENCES redpackets (id);
ALTER TABLE payments
  DROP CONSTRAINT payments_kind_known,
  DROP CONSTRAINT payments_payee_present,
  DROP CONSTRAINT payments_card_present,
  ADD CONSTRAINT payments_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund')),
  ADD CONSTRAINT payments_payee_present CHECK ((kind IN ('p2p', 'shop', 'refund')) = (payee_user_id IS NOT NULL)),
  ADD CONSTRAINT payments_card_present CHECK ((kind IN ('topup', 'withdraw')) = (card_id IS NOT NULL)),
  ADD CONSTRAINT payments_redpacket_present CHECK ((kind LIKE 'redpacket%') = (redpacket_id IS NOT NULL));
ALTER TABLE payments_bills
  DROP CONSTRAINT payments_bills_kind_known,
  ADD CONSTRAINT payments_bills_kind_known CHECK (kind IN ('topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund'));
