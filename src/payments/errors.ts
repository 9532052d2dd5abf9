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
  shop_not_found: { status: 404, title: 'You have no shop', retryable: false },
  shop_already_open: { status: 409, title: 'You already have a shop', retryable: false },
  pay_target_not_found: { status: 404, title: 'No shop or order has this code', retryable: false },
  cannot_pay_own_shop: { status: 422, title: 'You cannot pay your own shop', retryable: false },
  order_not_found: { status: 404, title: 'No such order', retryable: false },
  order_expired: { status: 409, title: 'The order has expired', retryable: false },
  order_already_paid: { status: 409, title: 'The order is already paid', retryable: false },
  amount_required: {
    status: 422,
    title: "Enter the amount: the shop's code has none",
    retryable: false,
  },
  pay_code_invalid: {
    status: 422,
    title: 'The payment code is unknown, used or expired',
    retryable: false,
  },
  charge_not_found: { status: 404, title: 'No such charge', retryable: false },
  charge_not_awaiting: { status: 409, title: 'The charge is not waiting for confirmation', retryable: false },
  shop_payment_not_found: { status: 404, title: 'No such shop payment', retryable: false },
  refund_exceeds_payment: {
    status: 422,
    title: 'Refunds would exceed the payment',
    retryable: false,
  },
  amount_mismatch: { status: 422, title: "The amount differs from the order's", retryable: false },
});

export type PaymentsErrorName = keyof typeof paymentsErrors;
