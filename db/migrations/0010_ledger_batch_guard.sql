-- A batch's write statement moves the chain head only if it updated every book it changed. That
-- check must abort the transaction, not just skip the head: the statement's other parts (the
-- transfers and entries) have run, and COMMIT is already on the wire behind it. This function
-- raises, so the batch's COMMIT answers ROLLBACK and nothing of it lands.
CREATE FUNCTION ledger_assert(ok boolean, message text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'ledger invariant: %', message USING ERRCODE = 'P0001';
  END IF;
  RETURN true;
END $$;
