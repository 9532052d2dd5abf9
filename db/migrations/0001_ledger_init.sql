-- The ledger: accounts with TigerBeetle's four balance totals, append-only transfers and entries,
-- and the hash-chain head. Ids are COLLATE "C": byte order, so index lookups compare with memcmp
-- instead of the database locale's collation (ids are ASCII; their order means nothing). Every statement here is schema-relative so a test file or benchmark can
-- run in a schema of its own.

CREATE TABLE ledger_accounts (
  id                    text COLLATE "C" PRIMARY KEY,
  currency              text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  owner_id              text COLLATE "C",
  code                  text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_.]{0,62}$'),
  -- Debits may not exceed credits (+ overdraft_limit_minor): user wallets, escrow, budgets.
  no_overdraft          boolean NOT NULL,
  overdraft_limit_minor bigint NOT NULL DEFAULT 0 CHECK (overdraft_limit_minor >= 0),
  -- A hot account is a logical row with shard_count > 1 whose money lives in its shard rows.
  shard_count           integer NOT NULL DEFAULT 1 CHECK (shard_count BETWEEN 1 AND 256),
  parent_id             text COLLATE "C" REFERENCES ledger_accounts (id),
  shard_no              integer,
  debits_pending        bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted         bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending       bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted        bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  metadata              jsonb NOT NULL DEFAULT '{}',
  created_at            timestamptz NOT NULL,
  CHECK ((parent_id IS NULL) = (shard_no IS NULL)),
  CHECK (parent_id IS NULL OR shard_count = 1),
  -- The database's own guard for no-overdraft accounts, behind the writer's check.
  CHECK (NOT no_overdraft
         OR debits_posted + debits_pending <= credits_posted + overdraft_limit_minor)
) WITH (fillfactor = 70);
-- fillfactor leaves room on each page so that a balance update is a HOT update (no index writes).
CREATE UNIQUE INDEX ledger_accounts_shard ON ledger_accounts (parent_id, shard_no)
  WHERE parent_id IS NOT NULL;
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id) WHERE owner_id IS NOT NULL;

-- One row per applied transfer. seq is gapless and assigned by the writer; it orders the journal
-- and the hash chain. debit/credit_account_id are what the caller asked for (a logical account);
-- debit/credit_book_id are the rows whose balances moved (the same, or one of its shards).
CREATE TABLE ledger_transfers (
  seq                bigint PRIMARY KEY,
  id                 text COLLATE "C" NOT NULL UNIQUE,
  debit_account_id   text COLLATE "C" NOT NULL,
  credit_account_id  text COLLATE "C" NOT NULL,
  -- No foreign keys on the books: the writer reads every book it moves under lock in the same
  -- transaction, and a per-row FK trigger would cost more than the rest of the insert.
  debit_book_id      text COLLATE "C" NOT NULL,
  credit_book_id     text COLLATE "C" NOT NULL,
  amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
  currency           text NOT NULL,
  kind               text NOT NULL,
  -- 'posted' moves money now; 'pending' places a hold; 'post' / 'void' / 'expire' resolve one.
  type               text NOT NULL CHECK (type IN ('posted', 'pending', 'post', 'void', 'expire')),
  pending_id         text COLLATE "C",
  timeout_at         timestamptz,
  group_id           text COLLATE "C",
  metadata           jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL,
  hash               bytea NOT NULL,
  CHECK (debit_book_id <> credit_book_id),
  CHECK ((type IN ('post', 'void', 'expire')) = (pending_id IS NOT NULL)),
  CHECK (type = 'pending' OR timeout_at IS NULL)
);
-- A hold is resolved (posted, voided or expired) at most once.
CREATE UNIQUE INDEX ledger_transfers_pending_id ON ledger_transfers (pending_id)
  WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_transfers_open_holds ON ledger_transfers (timeout_at)
  WHERE type = 'pending' AND timeout_at IS NOT NULL;
CREATE INDEX ledger_transfers_group ON ledger_transfers (group_id) WHERE group_id IS NOT NULL;

-- One row per posted movement on a book, with the book's balance after it (credits minus debits),
-- so a statement is an index range read, never a scan.
CREATE TABLE ledger_entries (
  book_id             text COLLATE "C" NOT NULL,
  transfer_seq        bigint NOT NULL,
  side                "char" NOT NULL CHECK (side IN ('D', 'C')),
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  balance_after_minor bigint NOT NULL,
  PRIMARY KEY (book_id, transfer_seq)
);

-- The end of the hash chain: the last seq and its hash. The writer locks this one row per batch.
CREATE TABLE ledger_chain_head (
  id       boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_seq bigint NOT NULL,
  hash     bytea NOT NULL
);
INSERT INTO ledger_chain_head (last_seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- The journal is append-only: corrections are reversing transfers, never edits.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger journal is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
