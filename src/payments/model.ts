import { createHash } from 'node:crypto';
import { idPattern } from '../kernel/ids.ts';
import type { TransferRequest } from '../ledger/index.ts';

/**
 * Payments' pure rules: banks, limits, the Asia/Shanghai calendar, which way a bill points, and
 * how a payment names its ledger transfer. No I/O.
 */

export const paymentKinds = ['topup', 'withdraw', 'p2p', 'shop', 'refund', 'redpacket', 'redpacket_grab', 'redpacket_refund', 'rain_prize', 'deposit_waived', 'deposit_hold', 'deposit_release', 'deposit_charge', 'openapi_payout'] as const;
export type PaymentKind = (typeof paymentKinds)[number];
export type PaymentStatus = 'pending' | 'succeeded' | 'failed';
/**
 * `neutral` is money that does not enter or leave the user's wallet from someone else: between
 * their own bank card and wallet (top-up, withdrawal), or in their shop's own account (a shop
 * payment received, a refund given). Like Alipay's 不计收支 it is listed but counts as neither
 * income nor spending in the monthly totals.
 */
export const billDirections = ['income', 'expense', 'neutral'] as const;
export type BillDirection = (typeof billDirections)[number];

/** The simulated banks a card can be bound from (codes as banks publish them). */
export const banks = {
  ICBC: '工商银行',
  CCB: '建设银行',
  ABC: '农业银行',
  BOC: '中国银行',
  CMB: '招商银行',
  BOCOM: '交通银行',
} as const;
export type BankCode = keyof typeof banks;
export const bankCodes = Object.keys(banks) as BankCode[];

/** The bank's side of every top-up and withdrawal: one system account that may go negative. */
export const bankAccountId = 'acct_system_bank_cny';
export const bankAccountCode = 'system.bank';

export const cardsPerUserMax = 10;
export const memoLengthMax = 50;
export const billsPageSizeDefault = 20;
export const billsPageSizeMax = 100;
/** A payment still pending after this long belongs to a request that died; the sweep settles it. */
export const pendingStaleAfterMs = 5 * 60_000;
export const staleSweepSizeMax = 100;

export interface PaymentLimits {
  /** Top-ups per user per Asia/Shanghai day, in fen. */
  readonly topupDailyMaxMinor: bigint;
  /** Withdrawals per user per day, in fen. */
  readonly withdrawDailyMaxMinor: bigint;
  /** What a user without a verified real name may send per day (transfers plus withdrawals). */
  readonly unverifiedDailySendMaxMinor: bigint;
}

/** ¥50,000 a day each way: a simulated bank's usual quick-pay limit. */
export const topupDailyMaxMinor = 5_000_000n;
export const withdrawDailyMaxMinor = 5_000_000n;

const shanghaiOffsetMs = 8 * 3600_000;

/** The Asia/Shanghai calendar day (`YYYY-MM-DD`) of an instant; China has no daylight saving. */
export function shanghaiDay(ms: number): string {
  return new Date(ms + shanghaiOffsetMs).toISOString().slice(0, 10);
}

export function shanghaiMonth(ms: number): string {
  return shanghaiDay(ms).slice(0, 7);
}

/** The instants [start, end) of an Asia/Shanghai month given as `YYYY-MM`. */
export function monthRange(month: string): { readonly start: Date; readonly end: Date } {
  const year = Number(month.slice(0, 4));
  const monthIndex = Number(month.slice(5, 7)) - 1;
  return {
    start: new Date(Date.UTC(year, monthIndex, 1) - shanghaiOffsetMs),
    end: new Date(Date.UTC(year, monthIndex + 1, 1) - shanghaiOffsetMs),
  };
}

/** What a user has already committed today (pending or succeeded), per kind, in fen. */
export interface DaySums {
  readonly topupMinor: bigint;
  readonly withdrawMinor: bigint;
  readonly p2pMinor: bigint;
  readonly shopMinor: bigint;
  /** Red packets sent (their whole amounts). */
  readonly redpacketMinor: bigint;
}

export interface LimitBreach {
  readonly code:
    | 'payments.topup_daily_limit_exceeded'
    | 'payments.withdraw_daily_limit_exceeded'
    | 'payments.unverified_daily_limit_exceeded';
  readonly limitMinor: bigint;
  readonly usedMinor: bigint;
}

/** Only these need today's sums (and the per-user lock that keeps them honest). */
export function isLimited(kind: PaymentKind, realNameVerified: boolean): boolean {
  // A refund returns a customer's money from a shop account: it sends nothing of the owner's;
  // a red packet's grab or refund pays out of its escrow, never out of the user's wallet.
  if (kind === 'refund' || kind === 'redpacket_grab' || kind === 'redpacket_refund' || kind === 'rain_prize') return false;
  return (kind !== 'p2p' && kind !== 'shop' && kind !== 'redpacket') || !realNameVerified;
}

/**
 * The first daily limit a new payment would break, if any: the kind's own limit first, then the
 * unverified user's send limit, which counts transfers and withdrawals together.
 */
export function limitBreach(input: {
  readonly kind: PaymentKind;
  readonly amountMinor: bigint;
  readonly sums: DaySums;
  readonly realNameVerified: boolean;
  readonly limits: PaymentLimits;
}): LimitBreach | undefined {
  const { kind, amountMinor, sums, limits } = input;
  if (kind === 'topup' && sums.topupMinor + amountMinor > limits.topupDailyMaxMinor) {
    return {
      code: 'payments.topup_daily_limit_exceeded',
      limitMinor: limits.topupDailyMaxMinor,
      usedMinor: sums.topupMinor,
    };
  }
  if (kind === 'withdraw' && sums.withdrawMinor + amountMinor > limits.withdrawDailyMaxMinor) {
    return {
      code: 'payments.withdraw_daily_limit_exceeded',
      limitMinor: limits.withdrawDailyMaxMinor,
      usedMinor: sums.withdrawMinor,
    };
  }
  if (kind === 'topup' || input.realNameVerified) return undefined;
  const sentMinor = sums.withdrawMinor + sums.p2pMinor + sums.shopMinor + sums.redpacketMinor;
  if (sentMinor + amountMinor > limits.unverifiedDailySendMaxMinor) {
    return {
      code: 'payments.unverified_daily_limit_exceeded',
      limitMinor: limits.unverifiedDailySendMaxMinor,
      usedMinor: sentMinor,
    };
  }
  return undefined;
}

/** How a payment looks from one of its users' side. */
export function billDirection(kind: PaymentKind, side: 'payer' | 'payee'): BillDirection {
  switch (kind) {
    case 'p2p':
      return side === 'payer' ? 'expense' : 'income';
    // The shop's owner is the payee of a shop payment and the payer of a refund: shop money.
    case 'shop':
      return side === 'payer' ? 'expense' : 'neutral';
    case 'refund':
      return side === 'payer' ? 'neutral' : 'income';
    case 'topup':
    case 'withdraw':
      return 'neutral';
    // The packet's escrow is the other side: its sender pays in, grabbers and the sender (the
    // unclaimed rest) are paid out.
    case 'redpacket':
      return 'expense';
    case 'redpacket_grab':
    case 'redpacket_refund':
    case 'rain_prize':
      return 'income';
    // A deposit waived, held or released stays the user's money (不计收支); a charge is spent.
    case 'deposit_waived':
    case 'deposit_hold':
    case 'deposit_release':
      return 'neutral';
    case 'deposit_charge':
      return 'expense';
    // A merchant's payout through the open platform: income to the user it pays.
    case 'openapi_payout':
      return 'income';
  }
}

export const paymentIdPattern = idPattern('pay');
export const cardIdPattern = idPattern('card');

/**
 * One request (user, kind, Idempotency-Key) moves money under exactly one ledger transfer id,
 * whichever of its attempts submits it. Hashed: keys may hold characters ledger ids do not.
 */
export function ledgerTransferId(request: {
  readonly userId: string;
  readonly kind: PaymentKind;
  readonly requestKey: string;
}): string {
  const digest = createHash('sha256')
    .update(`${request.userId}\n${request.kind}\n${request.requestKey}`)
    .digest('hex');
  return `pay:${digest.slice(0, 48)}`;
}

/** A payment row as the ledger needs it. */
export interface LedgerLeg {
  readonly ledgerTransferId: string;
  readonly kind: PaymentKind;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

export function toLedgerTransfer(payment: LedgerLeg): TransferRequest {
  return {
    id: payment.ledgerTransferId,
    type: 'posted',
    debitAccountId: payment.debitAccountId,
    creditAccountId: payment.creditAccountId,
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    // No metadata: every attempt of a request submits this same transfer, so nothing that differs
    // between attempts (like the attempt's payment id) may be part of it.
    kind: payment.kind,
  };
}

/**
 * What makes two requests under one Idempotency-Key the same payment. The PIN is left out: it is
 * not part of what is paid, and nothing derived from it is stored.
 */
export function requestFingerprint(input: {
  readonly kind: PaymentKind;
  readonly counterpartyId: string;
  readonly amountMinor: bigint;
  readonly memo: string | null;
}): string {
  const canonical = JSON.stringify([
    input.kind,
    input.counterpartyId,
    input.amountMinor.toString(),
    input.memo,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** A memo is trimmed; an empty one is none. Control characters are refused by the schema. */
export function normalizeMemo(memo: string | undefined): string | null {
  const trimmed = memo?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

export function cardDisplayName(bank: BankCode, last4: string): string {
  return `${banks[bank]}(${last4})`;
}

/** Bill cursors are opaque to clients: the last bill's time and id, base64url. */
export function encodeBillCursor(createdAt: Date, paymentId: string): string {
  return Buffer.from(`${String(createdAt.getTime())}.${paymentId}`).toString('base64url');
}

export function decodeBillCursor(
  cursor: string,
): { readonly createdAt: Date; readonly paymentId: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^([0-9]{1,15})\.(pay_[0-9a-f-]{36})$/.exec(text);
  if (match === null) return undefined;
  const [, ms = '', paymentId = ''] = match;
  return { createdAt: new Date(Number(ms)), paymentId };
}
