import type { AuthUser } from '../identity/index.ts';
import { DomainError, registerErrors } from '../kernel/errors.ts';
import type { SubmitResult, TransferRequest } from '../ledger/index.ts';
import { toLedgerTransfer } from './model.ts';
import type { NewPayment, PaymentRow } from './store.ts';

/**
 * The port through which a payment asks for a discount (the marketing engine implements it), and
 * how a discounted payment moves its money: the payer's leg (the price less the discount) and the
 * discount leg (from the campaign's budget account to the same payee) in one linked ledger group,
 * applied all or none. The budget account cannot go negative, so the ledger's refusal of the
 * discount leg is what stops a campaign spending more than it holds.
 */

/** Payment scenes, as the marketing engine's deny-by-default rules name them. */
export type PaymentScene = 'shop_qr' | 'payment_code' | 'online_bill' | 'p2p_transfer' | 'card_repayment' | 'topup';

export interface DiscountRequest {
  readonly scene: PaymentScene;
  readonly user: AuthUser;
  /** The price before any discount. */
  readonly amountMinor: bigint;
  readonly requestKey: string;
  /** The offer (campaign or voucher id) the payer was shown and confirmed, if any. */
  readonly offerId: string | undefined;
}

/** A discount reserved for one payment: the per-user limits (and a voucher) are already taken. */
export interface AppliedDiscount {
  readonly campaignId: string;
  readonly budgetAccountId: string;
  readonly offMinor: bigint;
  readonly label: string;
  readonly voucherId: string | null;
  /** Gives the reservation back: the payment failed, or an earlier attempt had already paid. */
  release(): Promise<void>;
}

/** What the payer is shown before the PIN: the best offer now, not yet reserved. */
export interface DiscountQuote {
  /** Name this when paying to be sure of the offer (or be told it changed). */
  readonly offerId: string;
  readonly campaignId: string;
  readonly label: string;
  readonly labelText: { readonly zh: string; readonly en: string };
  /** The amount off (for a random discount, the most it can be). */
  readonly offMinor: bigint;
  readonly random: boolean;
  readonly payMinor: bigint;
}

export interface DiscountEngine {
  /** The best offer for a payment about to be confirmed; nothing is reserved. */
  quote(request: Omit<DiscountRequest, 'requestKey' | 'offerId'>): Promise<DiscountQuote | undefined>;
  /** The best benefit for this payment now, reserved; undefined when none applies. */
  apply(request: DiscountRequest): Promise<AppliedDiscount | undefined>;
  /**
   * The ledger refused a campaign's discount leg: its budget holds less than this process
   * thought. The campaign is offered nothing more until its budget is read again, which the
   * promise waits for.
   */
  budgetRefused(campaignId: string): Promise<void>;
}

export const discountErrors = registerErrors('marketing', {
  offer_changed: { status: 409, title: 'The discount you were shown is no longer available', retryable: true },
  budget_spent: { status: 409, title: "The campaign's budget ran out before this payment", retryable: true },
});

/** The ledger id of a payment's discount leg: derived from its payer leg, so every attempt shares it. */
export function discountTransferId(paymentTransferId: string): string {
  return `${paymentTransferId}:d`;
}

/** What a payment submits to the ledger: its payer's leg, and its discount leg when it has one. */
export function ledgerLegsOf(payment: NewPayment | PaymentRow): TransferRequest[] {
  const payer = toLedgerTransfer({
    ledgerTransferId: payment.ledger_transfer_id,
    kind: payment.kind,
    debitAccountId: payment.debit_account_id,
    creditAccountId: payment.credit_account_id,
    amountMinor: payment.amount_minor,
    currency: payment.currency,
  });
  if (payment.discount_minor === null || payment.budget_account_id === null) return [payer];
  // A refund's leg goes the other way: the shop gives the campaign back its share.
  if (payment.kind === 'refund')
    return [payer, { id: discountTransferId(payment.ledger_transfer_id), type: 'posted', debitAccountId: payment.debit_account_id, creditAccountId: payment.budget_account_id, amountMinor: payment.discount_minor, currency: payment.currency, kind: 'marketing_discount_return' }];
  return [
    payer,
    {
      id: discountTransferId(payment.ledger_transfer_id),
      type: 'posted',
      debitAccountId: payment.budget_account_id,
      creditAccountId: payment.credit_account_id,
      amountMinor: payment.discount_minor,
      currency: payment.currency,
      kind: 'marketing_discount',
    },
  ];
}

/**
 * The one result a payment's submission stands for: the first real failure (not the others'
 * `linked_event_failed`), or the payer leg's result. A leg drawing on a campaign's budget that is
 * refused for want of funds is `marketing.budget_spent`, so the caller can pay without it (a
 * refund's return leg draws on the shop, so its refusal stays the shop's insufficient funds).
 */
export function paymentResult(payment: NewPayment | PaymentRow, results: readonly SubmitResult[]): SubmitResult {
  const failedAt = results.findIndex((r) => r.status === 'failed' && !r.error.endsWith('linked_event_failed'));
  const result = results[failedAt === -1 ? 0 : failedAt];
  if (result === undefined) throw new Error('the writer returned no result');
  const leg = ledgerLegsOf(payment)[failedAt];
  if (result.status === 'failed' && result.error.endsWith('insufficient_funds') && leg !== undefined && leg.debitAccountId === payment.budget_account_id)
    return { ...result, error: 'marketing.budget_spent', detail: "the campaign's budget ran out" };
  return result;
}

export function isBudgetSpent(error: unknown): boolean {
  return error instanceof DomainError && error.code === 'marketing.budget_spent';
}
