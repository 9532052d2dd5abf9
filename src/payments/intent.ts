import { createHash } from 'node:crypto';
import { maskMobile } from '../identity/index.ts';
import type { AuthUser } from '../identity/index.ts';
import { assert } from '../kernel/assert.ts';
import { DomainError } from '../kernel/errors.ts';
import { billDirection, cardDisplayName, ledgerTransferId, requestFingerprint, shanghaiDay, type PaymentKind } from './model.ts';
import type { AppliedDiscount, PaymentScene } from './discounts.ts';
import type { RefundedDiscount } from './paths.ts';
import type { ResponseRecorder } from './service.ts';
import type { CardRow, NewBill, NewPayment, PaymentRow } from './store.ts';

/** A payment about to be made, as `Payments` checked it, and the rows it leaves. */

/** A payment about to be recorded: everything `open` needs, already checked. */
export interface Intent {
  readonly kind: PaymentKind;
  readonly user: AuthUser;
  readonly requestKey: string;
  readonly amountMinor: bigint;
  readonly memo: string | null;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly card: CardRow | null;
  readonly payee: AuthUser | null;
  /** A shop payment's shop (its owner is the payee) and, for a dynamic code, its order. */
  readonly shop: ShopTarget | null;
  /** A refund's original shop payment: refunds of it never add up to more than its amount. */
  readonly refundOf: { readonly paymentId: string; readonly amountMinor: bigint; readonly discount?: RefundedDiscount | null } | null;
  /** Stores the route's response with a direct payment (see `ResponseRecorder`). */
  readonly respond: ResponseRecorder | null;
  /** A red packet being sent: its escrow is the credit side; its target names the bill. */
  readonly redPacket?: RedPacketTarget | null;
  /** The payment scene a discount may apply in; none for payments no campaign may touch. */
  readonly scene?: PaymentScene | null;
  /** The offer the payer was shown and confirmed (campaign or voucher id), if any. */
  readonly offerId?: string | undefined;
  /** The discount reserved for this payment: the payer pays `amountMinor` less it. */
  readonly discount?: AppliedDiscount | null;
  /** The ledger refused a discount for this payment once, and the budgets were read again. */
  readonly budgetReread?: boolean;
}

/** The packet a `redpacket` payment funds, and who its sender's bill names. */
export interface RedPacketTarget {
  readonly packetId: string;
  readonly counterpartyUserId: string | null;
  readonly counterpartyName: string;
  readonly counterpartyMobileMasked: string | null;
}

/** Where a shop payment goes, as `Shops` resolved it from a receive code. */
export interface ShopTarget {
  readonly shopId: string;
  readonly shopName: string;
  readonly accountId: string;
  readonly ownerUserId: string;
  readonly orderId: string | null;
  /** The receive code paid: what makes two requests under one key the same payment. */
  readonly code: string;
}


/** The fingerprint of what the request pays: the same key must carry the same payment. */
export function intentFingerprint(intent: Intent): string {
  const counterpartyId = intent.shop?.code ?? intent.card?.id ?? intent.payee?.id ?? intent.redPacket?.packetId;
  assert(counterpartyId !== undefined, 'a payment has a card or a payee');
  return requestFingerprint({ kind: intent.kind, counterpartyId, amountMinor: intent.amountMinor, memo: intent.memo });
}

/** The payment row of an intent, under a fresh id. */
export function newPaymentRow(intent: Intent, id: string, now: Date, fingerprint: string): NewPayment {
  const discount = intent.discount ?? null;
  const request = { userId: intent.user.id, kind: intent.kind, requestKey: intent.requestKey };
  return {
    id,
    kind: intent.kind,
    user_id: intent.user.id,
    payee_user_id: intent.payee?.id ?? null,
    card_id: intent.card?.id ?? null,
    debit_account_id: intent.debitAccountId,
    credit_account_id: intent.creditAccountId,
    amount_minor: intent.amountMinor - (discount?.offMinor ?? 0n),
    currency: 'CNY',
    memo: intent.memo,
    request_key: intent.requestKey,
    request_sha256: fingerprint,
    ledger_transfer_id: ledgerTransferId(request),
    day: shanghaiDay(now.getTime()),
    created_at: now,
    shop_id: intent.shop?.shopId ?? null,
    shop_order_id: intent.shop?.orderId ?? null,
    refund_of_payment_id: intent.refundOf?.paymentId ?? null,
    redpacket_id: intent.redPacket?.packetId ?? null,
    rain_id: null,
    ...discountColumns(discount),
    scene: intent.scene ?? null,
    deposit_id: null,
    openapi_app_id: null,
  };
}

function discountColumns(discount: AppliedDiscount | null) {
  return {
    discount_minor: discount?.offMinor ?? null,
    campaign_id: discount?.campaignId ?? null,
    discount_label: discount?.label ?? null,
    voucher_id: discount?.voucherId ?? null,
    budget_account_id: discount?.budgetAccountId ?? null,
  };
}

/** A live attempt of the request: the same key must carry the same payment. */
export function sameRequest(existing: PaymentRow, fingerprint: string): PaymentRow {
  if (existing.request_sha256 !== fingerprint) {
    throw new DomainError('idempotency.key_reused', {
      detail: 'this Idempotency-Key was used for a different payment; use a new key',
    });
  }
  return existing;
}

type BillSource = Pick<PaymentRow, 'id' | 'kind' | 'amount_minor' | 'created_at'> & { readonly discount_minor?: bigint | null };

/** The bill lines a payment leaves: one for a card payment, one per side for a transfer. */
export function billsFor(intent: Intent, payment: BillSource): NewBill[] {
  const base = {
    paymentId: payment.id,
    kind: payment.kind,
    amountMinor: payment.amount_minor,
    createdAt: payment.created_at,
  };
  if (intent.card !== null) {
    return [
      {
        ...base,
        userId: intent.user.id,
        direction: billDirection(payment.kind, 'payer'),
        counterpartyUserId: null,
        counterpartyName: cardDisplayName(intent.card.bank, intent.card.last4),
        counterpartyMobileMasked: null,
      },
    ];
  }
  const redPacket = intent.redPacket ?? null;
  if (redPacket !== null) {
    return [
      {
        ...base,
        userId: intent.user.id,
        direction: billDirection(payment.kind, 'payer'),
        counterpartyUserId: redPacket.counterpartyUserId,
        counterpartyName: redPacket.counterpartyName,
        counterpartyMobileMasked: redPacket.counterpartyMobileMasked,
      },
    ];
  }
  const payee = intent.payee;
  assert(payee !== null, 'a transfer has a payee');
  // A customer's bill names the shop, not the person behind it: the payer's of a shop payment,
  // the payee's of a refund.
  const shopName = intent.shop?.shopName ?? null;
  const payerSeesShop = shopName !== null && payment.kind === 'shop';
  const payeeSeesShop = shopName !== null && payment.kind === 'refund';
  return [
    {
      ...base,
      userId: intent.user.id,
      direction: billDirection(payment.kind, 'payer'),
      counterpartyUserId: payerSeesShop ? null : payee.id,
      counterpartyName: payerSeesShop ? shopName : payee.displayName,
      counterpartyMobileMasked: payerSeesShop ? null : maskMobile(payee.mobile),
    },
    {
      ...base,
      // The payee receives the whole price: what the payer paid and the campaign's discount.
      amountMinor: payment.amount_minor + (payment.discount_minor ?? 0n),
      userId: payee.id,
      direction: billDirection(payment.kind, 'payee'),
      counterpartyUserId: payeeSeesShop ? null : intent.user.id,
      counterpartyName: payeeSeesShop ? shopName : intent.user.displayName,
      counterpartyMobileMasked: payeeSeesShop ? null : maskMobile(intent.user.mobile),
    },
  ];
}

/**
 * A red packet's payout — a grab, or the unclaimed rest going back to its sender — as a payment
 * written already succeeded (by the ledger batch that moves it) and the one bill it leaves. The
 * packet is the request: (user, kind, packet) is unique, so a grabber has one grab payment per
 * packet and a sender one refund.
 */
export function redPacketPayout(input: {
  readonly id: string;
  /** A packet's grab or refund (`packetId` a packet), or a rain's prize (`packetId` the rain). */
  readonly kind: 'redpacket_grab' | 'redpacket_refund' | 'rain_prize';
  readonly userId: string;
  readonly packetId: string;
  /** What makes the payout unique for its user: the packet by default, a rain's prize seq. */
  readonly requestKey?: string;
  readonly ledgerTransferId: string;
  readonly escrowAccountId: string;
  readonly walletAccountId: string;
  readonly amountMinor: bigint;
  readonly memo: string | null;
  readonly now: Date;
  readonly counterparty: { readonly userId: string | null; readonly name: string; readonly mobileMasked: string | null };
}): { readonly payment: NewPayment; readonly bill: NewBill } {
  const payment = systemPayment({
    id: input.id,
    kind: input.kind,
    userId: input.userId,
    requestKey: input.requestKey ?? input.packetId,
    debitAccountId: input.escrowAccountId,
    creditAccountId: input.walletAccountId,
    amountMinor: input.amountMinor,
    memo: input.memo,
    ledgerTransferId: input.ledgerTransferId,
    now: input.now,
    links: { redpacket_id: input.kind === 'rain_prize' ? null : input.packetId, rain_id: input.kind === 'rain_prize' ? input.packetId : null },
  });

  return {
    payment,
    bill: {
      userId: input.userId,
      paymentId: input.id,
      direction: billDirection(input.kind, 'payee'),
      kind: input.kind,
      amountMinor: input.amountMinor,
      counterpartyUserId: input.counterparty.userId,
      counterpartyName: input.counterparty.name,
      counterpartyMobileMasked: input.counterparty.mobileMasked,
      createdAt: input.now,
    },
  };
}

/**
 * A step of a partner's deposit as the user's bill: waived (no money moved), held, released or
 * charged. Written already succeeded, once per (user, kind, deposit): the deposit is the request.
 */
export function depositStep(input: {
  readonly id: string;
  readonly kind: 'deposit_waived' | 'deposit_hold' | 'deposit_release' | 'deposit_charge';
  readonly userId: string;
  readonly depositId: string;
  readonly ledgerTransferId: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amountMinor: bigint;
  readonly memo: string;
  readonly partnerName: string;
  readonly now: Date;
}): { readonly payment: NewPayment; readonly bill: NewBill } {
  const payment = systemPayment({
    id: input.id,
    kind: input.kind,
    userId: input.userId,
    requestKey: input.depositId,
    debitAccountId: input.debitAccountId,
    creditAccountId: input.creditAccountId,
    amountMinor: input.amountMinor,
    memo: input.memo.slice(0, 50),
    ledgerTransferId: input.ledgerTransferId,
    now: input.now,
    links: { deposit_id: input.depositId },
  });

  return {
    payment,
    bill: { userId: input.userId, paymentId: input.id, direction: billDirection(input.kind, 'payer'), kind: input.kind, amountMinor: input.amountMinor, counterpartyUserId: null, counterpartyName: input.partnerName, counterpartyMobileMasked: null, createdAt: input.now },
  };
}

/**
 * A payment the system writes already succeeded (a red packet payout, a deposit step): no card,
 * no payee, no shop, no discount; unique for its user by (kind, request key).
 */
function systemPayment(input: {
  readonly id: string;
  readonly kind: PaymentKind;
  readonly userId: string;
  readonly requestKey: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amountMinor: bigint;
  readonly memo: string | null;
  readonly ledgerTransferId: string;
  readonly now: Date;
  readonly links: Partial<Pick<NewPayment, 'redpacket_id' | 'rain_id' | 'deposit_id' | 'openapi_app_id'>>;
}): NewPayment {
  return {
    id: input.id,
    kind: input.kind,
    user_id: input.userId,
    payee_user_id: null,
    card_id: null,
    debit_account_id: input.debitAccountId,
    credit_account_id: input.creditAccountId,
    amount_minor: input.amountMinor,
    currency: 'CNY',
    memo: input.memo,
    request_key: input.requestKey,
    request_sha256: createHash('sha256').update(`${input.kind}\n${input.requestKey}\n${input.userId}`).digest('hex'),
    ledger_transfer_id: input.ledgerTransferId,
    day: shanghaiDay(input.now.getTime()),
    created_at: input.now,
    shop_id: null,
    shop_order_id: null,
    refund_of_payment_id: null,
    redpacket_id: null,
    rain_id: null,
    deposit_id: null,
    openapi_app_id: null,
    ...input.links,
    ...discountColumns(null),
    scene: null,
  };
}

/** A merchant's payout to a wallet user through the open platform, as the payee's bill. */
export function payoutStep(input: { readonly id: string; readonly appId: string; readonly appName: string; readonly userId: string; readonly outBizNo: string; readonly ledgerTransferId: string; readonly shopAccountId: string; readonly walletAccountId: string; readonly amountMinor: bigint; readonly memo: string | null; readonly now: Date }): { readonly payment: NewPayment; readonly bill: NewBill } {
  const payment = systemPayment({ id: input.id, kind: 'openapi_payout', userId: input.userId, requestKey: `${input.appId}:${input.outBizNo}`, debitAccountId: input.shopAccountId, creditAccountId: input.walletAccountId, amountMinor: input.amountMinor, memo: input.memo, ledgerTransferId: input.ledgerTransferId, now: input.now, links: { openapi_app_id: input.appId } });
  return { payment, bill: { userId: input.userId, paymentId: input.id, direction: 'income', kind: 'openapi_payout', amountMinor: input.amountMinor, counterpartyUserId: null, counterpartyName: input.appName, counterpartyMobileMasked: null, createdAt: input.now } };
}
