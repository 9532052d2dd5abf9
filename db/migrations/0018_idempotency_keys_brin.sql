-- Idempotency-Key records are only ever looked up by their primary key; created_at serves the
-- daily prune alone (delete what is older than the retention). A btree on it cost every record an
-- index entry on the payment path; a BRIN index keeps one summary per range of pages, and records
-- are appended in time order, so the prune still finds the old pages. minmax-multi keeps a range
-- useful when a page reused after a prune holds both old and new rows.
DROP INDEX IF EXISTS http_idempotency_keys_created;
CREATE INDEX http_idempotency_keys_created ON http_idempotency_keys
  USING brin (created_at timestamptz_minmax_multi_ops);
-- Transfers and shop payments now insert their record completed and never update it (ADR 0014):
-- the room 0009 left in each page for the in-flight record's update is wasted on them.
ALTER TABLE http_idempotency_keys SET (fillfactor = 90);
