import { registerErrors } from '../kernel/errors.ts';

/**
 * The ledger's result codes. A transfer that fails returns one of these as its result (errors are
 * results, not exceptions); the HTTP layer maps a single failed transfer to problem+json with the
 * code `ledger.<name>`. Precedence: the idempotency check (`exists_with_different_*`) runs first,
 * then shape (ids, amounts), then accounts, then balances. Never renamed, only deprecated.
 */
export const ledgerErrors = registerErrors('ledger', {
  id_invalid: { status: 400, title: 'The transfer id is not valid', retryable: false },
  exists_with_different_type: { status: 409, title: 'A transfer with this id exists with a different type', retryable: false },
  exists_with_different_debit_account_id: { status: 409, title: 'A transfer with this id exists with a different debit account', retryable: false },
  exists_with_different_credit_account_id: { status: 409, title: 'A transfer with this id exists with a different credit account', retryable: false },
  exists_with_different_amount: { status: 409, title: 'A transfer with this id exists with a different amount', retryable: false },
  exists_with_different_currency: { status: 409, title: 'A transfer with this id exists with a different currency', retryable: false },
  exists_with_different_kind: { status: 409, title: 'A transfer with this id exists with a different kind', retryable: false },
  exists_with_different_pending_id: { status: 409, title: 'A transfer with this id exists with a different pending transfer', retryable: false },
  exists_with_different_timeout: { status: 409, title: 'A transfer with this id exists with a different timeout', retryable: false },
  exists_with_different_metadata: { status: 409, title: 'A transfer with this id exists with different metadata', retryable: false },
  exists_with_different_group: { status: 409, title: 'A transfer with this id exists in a different linked group', retryable: false },
  kind_invalid: { status: 400, title: 'The transfer kind is not valid', retryable: false },
  metadata_invalid: { status: 400, title: 'The transfer metadata is not valid', retryable: false },
  fields_missing: { status: 400, title: 'The transfer lacks a required field', retryable: false },
  duplicate_id_in_request: { status: 400, title: 'The same transfer id appears twice in one linked group', retryable: false },
  accounts_must_be_different: { status: 422, title: 'The debit and credit accounts must be different', retryable: false },
  amount_must_be_positive: { status: 422, title: 'The amount must be positive', retryable: false },
  amount_exceeds_maximum: { status: 422, title: 'The amount is over the per-transfer maximum', retryable: false },
  debit_account_not_found: { status: 422, title: 'The debit account does not exist', retryable: false },
  credit_account_not_found: { status: 422, title: 'The credit account does not exist', retryable: false },
  currency_mismatch: { status: 422, title: 'The transfer and both accounts must have the same currency', retryable: false },
  insufficient_funds: { status: 422, title: 'Insufficient funds', retryable: true },
  overdraft_limit_exceeded: { status: 422, title: 'The transfer exceeds the account\'s overdraft limit', retryable: true },
  overflow: { status: 422, title: 'The transfer would overflow an account total', retryable: false },
  timeout_only_for_pending: { status: 422, title: 'Only a pending transfer can have a timeout', retryable: false },
  pending_transfer_not_found: { status: 422, title: 'The pending transfer does not exist', retryable: false },
  pending_transfer_not_pending: { status: 422, title: 'The referenced transfer is not a pending transfer', retryable: false },
  pending_transfer_already_posted: { status: 409, title: 'The pending transfer is already posted', retryable: false },
  pending_transfer_already_voided: { status: 409, title: 'The pending transfer is already voided', retryable: false },
  pending_transfer_already_expired: { status: 409, title: 'The pending transfer has expired', retryable: false },
  pending_transfer_expired: { status: 409, title: 'The pending transfer timed out', retryable: false },
  pending_amount_exceeded: { status: 422, title: 'The amount to post exceeds the pending amount', retryable: false },
  pending_account_mismatch: { status: 422, title: 'The accounts differ from the pending transfer\'s', retryable: false },
  linked_event_failed: { status: 422, title: 'Another transfer in the linked group failed', retryable: false },
  account_not_found: { status: 404, title: 'The account does not exist', retryable: false },
  account_exists_with_different_fields: { status: 409, title: 'An account with this id exists with different fields', retryable: false },
  journal_append_only: { status: 409, title: 'The journal is append-only', retryable: false },
});

export type LedgerErrorName = keyof typeof ledgerErrors;
export type LedgerErrorCode = `ledger.${LedgerErrorName}`;
