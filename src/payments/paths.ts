import { DomainError } from '../kernel/errors.ts';
import { formatMinor } from '../kernel/money.ts';
import type { Submission } from '../ledger/index.ts';
import { ledgerLegsOf } from './discounts.ts';
import type { Intent } from './intent.ts';
import { isLimited, type LimitBreach } from './model.ts';
import type { BillRow, NewBill, NewPayment, PaymentRow } from './store.ts';

/** The small pure pieces of `Payments`: which path a payment takes, what it submits, its errors. */

export function limitError(breach: LimitBreach): DomainError {
  const leftMinor =
    breach.limitMinor > breach.usedMinor ? breach.limitMinor - breach.usedMinor : 0n;
  const detail =
    breach.code === 'payments.unverified_daily_limit_exceeded'
      ? `without a verified real name you can send ¥${formatMinor(breach.limitMinor)} a day; ¥${formatMinor(leftMinor)} is left today. Verify your real name to lift the limit.`
      : `the daily limit is ¥${formatMinor(breach.limitMinor)}; ¥${formatMinor(leftMinor)} is left today`;
  return new DomainError(breach.code, {
    detail,
    limitMinor: breach.limitMinor,
    remainingMinor: leftMinor,
  });
}

/** A payment's ledger submission: its payer's leg alone, or with its discount leg as a linked group. */
export function submissionOf(payment: PaymentRow): Submission {
  const legs = ledgerLegsOf(payment);
  const [only] = legs;
  return legs.length === 1 && only !== undefined ? { transfer: only } : { group: legs };
}

/** Direct payments: unlimited, not an order (its unique index is claimed by a pending row), not a refund. */
export function isDirect(intent: Intent): boolean {
  return (
    !isLimited(intent.kind, intent.user.realNameVerified) &&
    intent.refundOf === null &&
    intent.card === null &&
    (intent.shop === null || intent.shop.orderId === null)
  );
}

/** The payer's bill of a direct payment as written, without reading it back. */
export function directBillRow(payment: NewPayment, bill: NewBill): BillRow {
  return {
    payment_id: payment.id,
    direction: bill.direction,
    kind: payment.kind,
    amount_minor: payment.amount_minor,
    currency: payment.currency,
    status: 'succeeded',
    memo: payment.memo,
    counterparty_user_id: bill.counterpartyUserId,
    counterparty_name: bill.counterpartyName,
    counterparty_mobile_masked: bill.counterpartyMobileMasked,
    card_id: null,
    bank: null,
    last4: null,
    ledger_transfer_id: payment.ledger_transfer_id,
    created_at: payment.created_at,
    completed_at: payment.created_at,
    redpacket_id: payment.redpacket_id,
    rain_id: payment.rain_id,
    discount_minor: payment.discount_minor,
    campaign_id: payment.campaign_id,
    discount_label: payment.discount_label,
    deposit_id: payment.deposit_id,
  };
}

/** The campaign discount on a payment being refunded. */
export interface RefundedDiscount {
  readonly minor: bigint;
  readonly campaignId: string;
  readonly budgetAccountId: string;
  readonly label: string;
  readonly scene: string | null;
}

/**
 * A refund's share of the payment's discount, returned from the shop to the campaign's budget:
 * in proportion to what is refunded, computed cumulatively so the refunds of the whole payment
 * return exactly the whole discount. Undefined when the share rounds to nothing.
 */
export function discountReturn(discount: RefundedDiscount, paidMinor: bigint, refundedBeforeMinor: bigint, refundMinor: bigint): Pick<NewPayment, 'discount_minor' | 'campaign_id' | 'budget_account_id' | 'discount_label' | 'scene'> | undefined {
  const upTo = (refunded: bigint): bigint => (discount.minor * refunded) / paidMinor;
  const share = upTo(refundedBeforeMinor + refundMinor) - upTo(refundedBeforeMinor);
  if (share <= 0n) return undefined;
  return { discount_minor: share, campaign_id: discount.campaignId, budget_account_id: discount.budgetAccountId, discount_label: discount.label, scene: discount.scene ?? 'shop_qr' };
}
