import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import './errors.ts';
import {
  billsPageSizeMax,
  cardDisplayName,
  decodeBillCursor,
  encodeBillCursor,
  monthRange,
  type BankCode,
  type BillDirection,
  type PaymentKind,
} from './model.ts';
import { selectBills, selectBillSums, type BillRow } from './store.ts';

/**
 * Bills: a user's payments as that user sees them (a transfer is an expense to its payer and an
 * income to its payee), newest first, and the monthly summary the statement chart draws.
 */

/** The other side of a bill: a user (with their name as it was when paid) or the user's own card. */
export interface Counterparty {
  readonly type: 'user' | 'bank_card';
  readonly displayName: string;
  readonly userId: string | null;
  readonly mobileMasked: string | null;
  readonly cardId: string | null;
  readonly bank: BankCode | null;
  readonly last4: string | null;
}

export interface Bill {
  readonly id: string;
  readonly kind: PaymentKind;
  readonly direction: BillDirection;
  /** Failed payments moved no money and are not bills. */
  readonly status: 'pending' | 'succeeded';
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly memo: string | null;
  readonly counterparty: Counterparty;
  /** The ledger transfer that moved the money: the receipt's transaction number. */
  readonly transactionNo: string;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
  /** The red packet a redpacket* bill belongs to: its details open from the bill. */
  readonly redPacketId: string | null;
  /** The rain a rain_prize bill was won in. */
  readonly rainId: string | null;
  /** A campaign's discount on this payment: the payer paid the price less it. */
  readonly discount: BillDiscount | null;
  /** A deposit's step (waived, held, released, charged): the partner's deposit. */
  readonly depositId: string | null;
}

export interface BillDiscount {
  readonly campaignId: string;
  /** The label key (`government_subsidy`, `merchant_discount`, `platform_discount`). */
  readonly label: string;
  readonly amountMinor: bigint;
  /** The price before the discount. */
  readonly grossMinor: bigint;
}

export interface BillQuery {
  readonly direction?: BillDirection | undefined;
  readonly kind?: PaymentKind | undefined;
  readonly month?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

export interface BillPage {
  readonly bills: Bill[];
  readonly nextCursor: string | null;
}

export interface MonthSummary {
  readonly month: string;
  readonly currency: 'CNY';
  /** Money from other users; top-ups, withdrawals and the shop account's moves (`neutral`) count as neither. */
  readonly incomeMinor: bigint;
  readonly expenseMinor: bigint;
  /** Per kind and direction, largest first within a direction: the chart's slices. */
  readonly byKind: {
    kind: PaymentKind;
    direction: BillDirection;
    amountMinor: bigint;
    count: number;
  }[];
}

function toCounterparty(row: BillRow): Counterparty {
  if (row.card_id !== null && row.bank !== null && row.last4 !== null) {
    return {
      type: 'bank_card',
      displayName: cardDisplayName(row.bank, row.last4),
      userId: null,
      mobileMasked: null,
      cardId: row.card_id,
      bank: row.bank,
      last4: row.last4,
    };
  }
  return {
    type: 'user',
    displayName: row.counterparty_name,
    userId: row.counterparty_user_id,
    mobileMasked: row.counterparty_mobile_masked,
    cardId: null,
    bank: null,
    last4: null,
  };
}

export function toBill(row: BillRow): Bill {
  // The store returns only visible bills: succeeded, or the user's own pending outgoing ones.
  const status = row.status === 'failed' ? 'pending' : row.status;
  return {
    id: row.payment_id,
    kind: row.kind,
    direction: row.direction,
    status,
    amountMinor: row.amount_minor,
    currency: row.currency,
    memo: row.memo,
    counterparty: toCounterparty(row),
    transactionNo: row.ledger_transfer_id,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    redPacketId: row.redpacket_id,
    rainId: row.rain_id,
    // A refund's discount column is what it gave back to the campaign: not a discount to show.
    discount:
      row.kind === 'refund' || row.discount_minor === null || row.campaign_id === null || row.discount_label === null
        ? null
        : { campaignId: row.campaign_id, label: row.discount_label, amountMinor: row.discount_minor, grossMinor: (row.direction === 'income' ? 0n : row.discount_minor) + row.amount_minor },
    depositId: row.deposit_id,
  };
}

export async function listBills(sql: Sql, userId: string, query: BillQuery): Promise<BillPage> {
  const before = query.cursor === undefined ? undefined : decodeBillCursor(query.cursor);
  if (query.cursor !== undefined && before === undefined) {
    throw new DomainError('request.invalid', {
      detail: 'the cursor is not valid; start again without it',
    });
  }
  const limit = Math.min(Math.max(1, query.limit), billsPageSizeMax);
  const rows = await selectBills(sql, userId, {
    direction: query.direction,
    kind: query.kind,
    range: query.month === undefined ? undefined : monthRange(query.month),
    before,
    limit: limit + 1,
  });
  const bills = rows.slice(0, limit).map(toBill);
  const last = bills[bills.length - 1];
  const hasMore = rows.length > limit && last !== undefined;
  return { bills, nextCursor: hasMore ? encodeBillCursor(last.createdAt, last.id) : null };
}

/** The user's own bill as read; another user's id answers exactly like one that does not exist. */
export function requireBill(row: BillRow | undefined, paymentId: string): Bill {
  if (row === undefined)
    throw new DomainError('payments.bill_not_found', { detail: `no bill ${paymentId}` });
  return toBill(row);
}

export async function monthSummary(sql: Sql, userId: string, month: string): Promise<MonthSummary> {
  const rows = await selectBillSums(sql, userId, monthRange(month));
  const total = (direction: BillDirection): bigint =>
    rows.filter((row) => row.direction === direction).reduce((sum, row) => sum + row.total, 0n);
  return {
    month,
    currency: 'CNY',
    incomeMinor: total('income'),
    expenseMinor: total('expense'),
    byKind: rows.map((row) => ({
      kind: row.kind,
      direction: row.direction,
      amountMinor: row.total,
      count: Number(row.count),
    })),
  };
}
