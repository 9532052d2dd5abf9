import type { DiscountQuote } from './discounts.ts';
import { Type, type Static } from 'typebox';
import { idPattern } from '../kernel/ids.ts';
import { memoLengthMax } from './model.ts';
import { AmountMinor, Pin, Timestamp } from './schemas.ts';
import type { Order, PayTarget, ShopWithBalance } from './shops.ts';

/** The shops API's TypeBox schemas and JSON mappers. Money is a digit string of fen. */

// Names and notes are shown to other users: no control characters.
const printable = '^[^\\u0000-\\u001f\\u007f]*$';

export const OpenShopBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 40, pattern: printable }),
  },
  { additionalProperties: false },
);
export type OpenShopBody = Static<typeof OpenShopBody>;

export const CreateOrderBody = Type.Object(
  {
    amountMinor: AmountMinor,
    note: Type.Optional(Type.String({ maxLength: memoLengthMax, pattern: printable })),
  },
  { additionalProperties: false },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

export const ShopPaymentBody = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 100, description: 'A scanned receive code' }),
    amountMinor: Type.Optional(AmountMinor),
    currency: Type.Optional(Type.Literal('CNY')),
    pin: Pin,
    offerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the offer shown before the PIN: if it no longer applies, nothing is paid (409 marketing.offer_changed)' })),
  },
  { additionalProperties: false },
);
export type ShopPaymentBody = Static<typeof ShopPaymentBody>;

export const RefundBody = Type.Object(
  { amountMinor: AmountMinor, currency: Type.Optional(Type.Literal('CNY')) },
  { additionalProperties: false },
);
export type RefundBody = Static<typeof RefundBody>;
export const ShopPaymentParams = Type.Object({ id: Type.String({ pattern: idPattern('pay') }) });

export const OrderParams = Type.Object({ id: Type.String({ pattern: idPattern('ord') }) });
export const PayTargetParams = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 100 }),
});
export const PayTargetQuery = Type.Object(
  { amountMinor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'the amount about to be paid to a static code, for its discount' })) },
  { additionalProperties: false },
);

export const ShopJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  accountId: Type.String(),
  receiveCode: Type.String(),
  payLink: Type.String(),
  balanceMinor: Type.String(),
  currency: Type.Literal('CNY'),
  createdAt: Timestamp,
});
export type ShopJson = Static<typeof ShopJson>;
export const ShopListJson = Type.Object({ shops: Type.Array(ShopJson) });

export const OrderJson = Type.Object({
  id: Type.String(),
  shopId: Type.String(),
  amountMinor: Type.String(),
  currency: Type.Literal('CNY'),
  note: Type.Union([Type.String(), Type.Null()]),
  receiveCode: Type.String(),
  payLink: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('paid'), Type.Literal('expired')]),
  paymentId: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Timestamp,
  createdAt: Timestamp,
});
export type OrderJson = Static<typeof OrderJson>;

/** A discount shown before the PIN: name its offerId when paying to be held to it. */
export const OfferJson = Type.Object({
  offerId: Type.String(),
  campaignId: Type.String(),
  label: Type.String(),
  labelText: Type.Object({ zh: Type.String(), en: Type.String() }),
  offMinor: Type.String({ description: 'the amount off; for a random discount, the most it can be' }),
  random: Type.Boolean(),
  payMinor: Type.String({ description: 'what the payer pays (for a random discount, at least this)' }),
});

export function toOfferJson(offer: DiscountQuote): Static<typeof OfferJson> {
  return { ...offer, offMinor: offer.offMinor.toString(), payMinor: offer.payMinor.toString() };
}

export const PayTargetJson = Type.Object({
  code: Type.String(),
  shopName: Type.String(),
  amountMinor: Type.Union([Type.String(), Type.Null()]),
  currency: Type.Literal('CNY'),
  note: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  offer: Type.Union([OfferJson, Type.Null()]),
});
export type PayTargetJson = Static<typeof PayTargetJson>;

export function toShopJson(shop: ShopWithBalance, link: string): ShopJson {
  return {
    id: shop.id,
    name: shop.name,
    accountId: shop.accountId,
    receiveCode: shop.receiveCode,
    payLink: link,
    balanceMinor: shop.balanceMinor.toString(),
    currency: 'CNY',
    createdAt: shop.createdAt.toISOString(),
  };
}

export function toOrderJson(order: Order, link: string): OrderJson {
  return {
    id: order.id,
    shopId: order.shopId,
    amountMinor: order.amountMinor.toString(),
    currency: 'CNY',
    note: order.note,
    receiveCode: order.receiveCode,
    payLink: link,
    status: order.status,
    paymentId: order.paymentId,
    expiresAt: order.expiresAt.toISOString(),
    createdAt: order.createdAt.toISOString(),
  };
}

export function toPayTargetJson(target: PayTarget): PayTargetJson {
  return {
    code: target.code,
    shopName: target.shopName,
    amountMinor: target.amountMinor?.toString() ?? null,
    currency: 'CNY',
    note: target.note,
    expiresAt: target.expiresAt?.toISOString() ?? null,
    offer: target.offer === null ? null : toOfferJson(target.offer),
  };
}
