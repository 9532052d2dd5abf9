import { Type, type Static } from 'typebox';
import { idPattern } from '../kernel/ids.ts';
import type { Bill, MonthSummary } from './bills.ts';
import {
  bankCodes,
  billDirections,
  cardIdPattern,
  memoLengthMax,
  paymentIdPattern,
  paymentKinds,
} from './model.ts';
import type { Card } from './cards.ts';

/**
 * The payments API's TypeBox schemas and JSON mappers. Money is a digit string of fen; the
 * schemas refuse zero, signs, points, exponents, JSON numbers, more than 18 digits and unknown
 * fields, so a malformed request is a 400 before anything is looked up.
 */

export const AmountMinor = Type.String({
  pattern: '^[1-9][0-9]{0,17}$',
  description: 'Positive minor units (fen) as a digit string',
});
const Currency = Type.Literal('CNY');
export const Pin = Type.String({ pattern: '^[0-9]{6}$', description: 'The 6-digit payment PIN' });
export const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const CardId = Type.String({ pattern: cardIdPattern });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Required: a unique key per payment' }),
  ),
});

export const BindCardBody = Type.Object(
  {
    bank: Type.Enum(bankCodes),
    last4: Type.String({
      pattern: '^[0-9]{4}$',
      description: 'The last 4 digits of the card number',
    }),
  },
  { additionalProperties: false },
);
export type BindCardBody = Static<typeof BindCardBody>;

export const CardPaymentBody = Type.Object(
  { cardId: CardId, amountMinor: AmountMinor, currency: Type.Optional(Currency), pin: Pin },
  { additionalProperties: false },
);
export type CardPaymentBody = Static<typeof CardPaymentBody>;

export const TransferBody = Type.Object(
  {
    toMobile: Type.Optional(
      Type.String({
        minLength: 11,
        maxLength: 16,
        description: "The recipient's mobile number (or give toUserId)",
      }),
    ),
    toUserId: Type.Optional(
      Type.String({
        pattern: idPattern('usr'),
        description: "The recipient's user id, e.g. from the friend list",
      }),
    ),
    amountMinor: AmountMinor,
    currency: Type.Optional(Currency),
    // No control characters: a memo is shown on both users' bills.
    memo: Type.Optional(
      Type.String({ maxLength: memoLengthMax, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
    ),
    pin: Pin,
  },
  { additionalProperties: false },
);
export type TransferBody = Static<typeof TransferBody>;

export const CardParams = Type.Object({ id: CardId });
export const BillParams = Type.Object({ id: Type.String({ pattern: paymentIdPattern }) });

const Month = Type.String({
  pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$',
  description: 'YYYY-MM, Asia/Shanghai',
});
const Direction = Type.Enum(billDirections, {
  description:
    "income and expense move the wallet to or from someone else; neutral is the user's own money: card top-ups and withdrawals, and their shop's payments received and refunds given",
});
const Kind = Type.Enum(paymentKinds);

export const BillsQuery = Type.Object(
  {
    direction: Type.Optional(Direction),
    month: Type.Optional(Month),
    kind: Type.Optional(Kind),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(
      Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1 to 100 (default 20)' }),
    ),
  },
  { additionalProperties: false },
);
export type BillsQuery = Static<typeof BillsQuery>;

export const SummaryQuery = Type.Object(
  { month: Type.Optional(Month) },
  { additionalProperties: false },
);

export const CardJson = Type.Object({
  id: Type.String(),
  bank: Type.String(),
  bankName: Type.String(),
  last4: Type.String(),
  createdAt: Timestamp,
});
export type CardJson = Static<typeof CardJson>;
export const CardListJson = Type.Object({ cards: Type.Array(CardJson) });

export const BillJson = Type.Object({
  id: Type.String(),
  kind: Kind,
  direction: Direction,
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded')]),
  amountMinor: Type.String(),
  currency: Type.String(),
  memo: NullableString,
  counterparty: Type.Object({
    type: Type.Union([Type.Literal('user'), Type.Literal('bank_card')]),
    displayName: Type.String(),
    userId: NullableString,
    mobileMasked: NullableString,
    cardId: NullableString,
    bank: NullableString,
    last4: NullableString,
  }),
  transactionNo: Type.String(),
  createdAt: Timestamp,
  completedAt: Type.Union([Timestamp, Type.Null()]),
  redPacketId: NullableString,
  rainId: NullableString,
  discount: Type.Union([
    Type.Object({
      campaignId: Type.String(),
      label: Type.String({ description: 'government_subsidy, merchant_discount or platform_discount' }),
      amountMinor: Type.String({ description: 'what the campaign paid' }),
      grossMinor: Type.String({ description: 'the price before the discount' }),
    }),
    Type.Null(),
  ]),
  depositId: NullableString,
});
export type BillJson = Static<typeof BillJson>;
export const BillPageJson = Type.Object({
  bills: Type.Array(BillJson),
  nextCursor: NullableString,
});

export const SummaryJson = Type.Object({
  month: Type.String(),
  currency: Type.String(),
  incomeMinor: Type.String(),
  expenseMinor: Type.String(),
  byKind: Type.Array(
    Type.Object({
      kind: Kind,
      direction: Direction,
      amountMinor: Type.String(),
      count: Type.Integer(),
    }),
  ),
});
export type SummaryJson = Static<typeof SummaryJson>;

export function toCardJson(card: Card): CardJson {
  return {
    id: card.id,
    bank: card.bank,
    bankName: card.bankName,
    last4: card.last4,
    createdAt: card.createdAt.toISOString(),
  };
}

export function toBillJson(bill: Bill): BillJson {
  return {
    id: bill.id,
    kind: bill.kind,
    direction: bill.direction,
    status: bill.status,
    amountMinor: bill.amountMinor.toString(),
    currency: bill.currency,
    memo: bill.memo,
    counterparty: bill.counterparty,
    transactionNo: bill.transactionNo,
    createdAt: bill.createdAt.toISOString(),
    completedAt: bill.completedAt?.toISOString() ?? null,
    redPacketId: bill.redPacketId,
    rainId: bill.rainId,
    discount: bill.discount === null ? null : { campaignId: bill.discount.campaignId, label: bill.discount.label, amountMinor: bill.discount.amountMinor.toString(), grossMinor: bill.discount.grossMinor.toString() },
    depositId: bill.depositId,
  };
}

export function toSummaryJson(summary: MonthSummary): SummaryJson {
  return {
    month: summary.month,
    currency: summary.currency,
    incomeMinor: summary.incomeMinor.toString(),
    expenseMinor: summary.expenseMinor.toString(),
    byKind: summary.byKind.map((slice) => ({
      ...slice,
      amountMinor: slice.amountMinor.toString(),
    })),
  };
}
