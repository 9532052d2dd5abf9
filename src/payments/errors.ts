import { registerErrors } from '../kernel/errors.ts';

/**
 * Payments' error catalog. Another user's card or bill answers the same 404 as a missing one, so
 * ids never tell a stranger what exists. The daily limits are retryable: the same request may pass
 * tomorrow, or (the unverified limit) once the real name is verified.
 */
export const paymentsErrors = registerErrors('payments', {
  card_not_found: { status: 404, title: 'No such bank card', retryable: false },
  card_already_bound: { status: 409, title: 'This bank card is already bound', retryable: false },
  card_limit_reached: { status: 422, title: 'Too many bank cards are bound', retryable: false },
  recipient_not_found: {
    status: 404,
    title: 'No user with this mobile number or id',
    retryable: false,
  },
  cannot_pay_self: {
    status: 422,
    title: 'You cannot transfer money to yourself',
    retryable: false,
  },
  unverified_daily_limit_exceeded: {
    status: 422,
    title: 'Over the daily sending limit for users without a verified real name',
    retryable: true,
  },
  topup_daily_limit_exceeded: {
    status: 422,
    title: 'Over the daily top-up limit',
    retryable: true,
  },
  withdraw_daily_limit_exceeded: {
    status: 422,
    title: 'Over the daily withdrawal limit',
    retryable: true,
  },
  payment_abandoned: {
    status: 409,
    title: 'The payment was abandoned before it completed',
    retryable: true,
  },
  bill_not_found: { status: 404, title: 'No such bill', retryable: false },
});

export type PaymentsErrorName = keyof typeof paymentsErrors;
