-- The rows every payment writes (the payment, its bills, a red packet share it settles) carry no
-- foreign keys (ADR 0012). Each key was an AFTER trigger per row, and each non-null one read and
-- share-locked its parent row (a heap write and a WAL record on the user's row, for every
-- payment): together about 40% of PostgreSQL's time in the statement that records a ledger
-- batch's payments. Every reference is written by code that has just read its parent, and none of
-- the parents is ever deleted; `auditReferences` (payments/references.ts), part of every
-- reconciliation, finds any row whose parent is missing.
ALTER TABLE payments
  DROP CONSTRAINT IF EXISTS payments_user_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_payee_user_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_card_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_shop_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_shop_order_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_refund_of_payment_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_redpacket_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_rain_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_campaign_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_voucher_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_deposit_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_openapi_app_id_fkey;
ALTER TABLE payments_bills
  DROP CONSTRAINT IF EXISTS payments_bills_user_id_fkey,
  DROP CONSTRAINT IF EXISTS payments_bills_payment_id_fkey;
ALTER TABLE redpacket_shares
  DROP CONSTRAINT IF EXISTS redpacket_shares_packet_id_fkey,
  DROP CONSTRAINT IF EXISTS redpacket_shares_grabbed_by_fkey;
