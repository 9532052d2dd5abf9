-- Every Idempotency-Key row is inserted in flight and updated once when its request completes.
-- Leaving room in each page lets that update stay on the page (a HOT update: no new index
-- entries), which matters at payment rates (ADR 0006).
ALTER TABLE http_idempotency_keys SET (fillfactor = 60);
