import { OfferJson, toOfferJson } from './shops-schemas.ts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { idPattern } from '../kernel/ids.ts';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { requestKeyOf } from './routes.ts';
import { AmountMinor, BillJson, IdempotencyHeaders, Pin, Timestamp, toBillJson } from './schemas.ts';
import type { Charge, PayCodes } from './pay-codes.ts';

/**
 * The payment code under /v1: the payer's app asks for a fresh code each minute and answers the
 * charges that wait for its PIN; the shop owner charges a code and polls the charge.
 *
 * Charge precedence (tests follow it): 401 → 400 Idempotency-Key → 400 schema → replay → 404
 * shop → 422 reused key → 422 code → 422 own code → the payment's own refusals, which fail the
 * charge (it answers 201 with status `failed` and the code).
 */
export interface PayCodesRoutesOptions {
  readonly payCodes: PayCodes;
  readonly identity: Identity;
  /** Requests per minute per user on the PIN-bearing and code-issuing routes. */
  readonly pinRateMax: number;
}


export const PayCodeJson = Type.Object({
  code: Type.String({ description: '18 digits starting 28; single use' }),
  qrSvg: Type.String({ description: 'The code as an SVG QR image' }),
  expiresAt: Timestamp,
});

export const ChargeBody = Type.Object(
  {
    payCode: Type.String({ minLength: 1, maxLength: 32, description: "The customer's payment code" }),
    amountMinor: AmountMinor,
    currency: Type.Optional(Type.Literal('CNY')),
  },
  { additionalProperties: false },
);

export const ConfirmBody = Type.Object(
  { pin: Pin, offerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the offer shown on the charge: if it no longer applies, nothing is paid (409 marketing.offer_changed)' })) },
  { additionalProperties: false },
);

export const ChargeParams = Type.Object({ id: Type.String({ pattern: idPattern('chg') }) });

export const ChargeJson = Type.Object({
  id: Type.String(),
  shopId: Type.String(),
  shopName: Type.String(),
  amountMinor: Type.String(),
  currency: Type.Literal('CNY'),
  status: Type.Union([
    Type.Literal('paying'),
    Type.Literal('awaiting_pin'),
    Type.Literal('paid'),
    Type.Literal('failed'),
    Type.Literal('declined'),
    Type.Literal('expired'),
  ]),
  paymentId: Type.Union([Type.String(), Type.Null()]),
  failureCode: Type.Union([Type.String(), Type.Null()]),
  payerMobileMasked: Type.String(),
  createdAt: Timestamp,
  confirmBy: Timestamp,
  offer: Type.Optional(Type.Union([OfferJson, Type.Null()], { description: 'for a charge awaiting the PIN: the discount it would get, shown before the PIN' })),
});
export type ChargeJson = Static<typeof ChargeJson>;

export function toChargeJson(charge: Charge): ChargeJson {
  return {
    id: charge.id,
    shopId: charge.shopId,
    shopName: charge.shopName,
    amountMinor: charge.amountMinor.toString(),
    currency: 'CNY',
    status: charge.status,
    paymentId: charge.paymentId,
    failureCode: charge.failureCode,
    payerMobileMasked: charge.payerMobileMasked,
    createdAt: charge.createdAt.toISOString(),
    confirmBy: charge.confirmBy.toISOString(),
    ...(charge.offer === undefined ? {} : { offer: charge.offer === null ? null : toOfferJson(charge.offer) }),
  };
}

export const payCodesRoutes: FastifyPluginAsyncTypebox<PayCodesRoutesOptions> = (app, options) => {
  const { payCodes } = options;
  app.addHook('onRequest', authenticateUser(options.identity));
  const perUser = {
    max: options.pinRateMax,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => request.user?.id ?? request.ip,
  };

  app.post(
    '/me/pay-code',
    {
      config: { rateLimit: perUser },
      schema: {
        summary: 'A fresh payment code (付款码) for a shop to charge: one minute, single use',
        description: 'Each call retires the codes issued before it. Needs a payment PIN set.',
        tags: ['pay codes'],
        response: { 201: PayCodeJson, ...problemResponses(401, 409, 429) },
      },
    },
    async (request, reply) => {
      const issued = await payCodes.issue(currentUser(request));
      return reply.code(201).send({ code: issued.code, qrSvg: issued.qrSvg, expiresAt: issued.expiresAt.toISOString() });
    },
  );

  app.get(
    '/me/code-charges',
    {
      schema: {
        summary: 'Charges of my payment code waiting for my PIN',
        tags: ['pay codes'],
        response: { 200: Type.Object({ charges: Type.Array(ChargeJson) }), ...problemResponses(401) },
      },
    },
    async (request) => ({ charges: (await payCodes.awaiting(currentUser(request))).map(toChargeJson) }),
  );

  app.post(
    '/me/code-charges/:id/confirm',
    {
      config: { idempotent: true, rateLimit: perUser },
      schema: {
        summary: 'Confirm a charge of my payment code with the PIN: the shop is paid',
        tags: ['pay codes'],
        headers: IdempotencyHeaders,
        params: ChargeParams,
        body: ConfirmBody,
        response: { 201: BillJson, ...problemResponses(400, 401, 403, 404, 409, 422, 423, 429) },
      },
    },
    async (request, reply) => {
      const { bill } = await payCodes.confirm(currentUser(request), { chargeId: request.params.id, pin: request.body.pin, offerId: request.body.offerId });
      return reply.code(201).send(toBillJson(bill));
    },
  );

  app.post(
    '/me/code-charges/:id/decline',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Decline a charge of my payment code',
        tags: ['pay codes'],
        headers: IdempotencyHeaders,
        params: ChargeParams,
        response: { 200: ChargeJson, ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request) => toChargeJson(await payCodes.decline(currentUser(request), request.params.id)),
  );

  app.post(
    '/shops/mine/charges',
    {
      config: { idempotent: true },
      schema: {
        summary: "Charge a customer's payment code from my shop",
        description:
          'Up to the no-PIN amount the charge is paid at once (`paid`, or `failed` with the reason); above it the customer confirms in the app (`awaiting_pin`) within 5 minutes.',
        tags: ['pay codes'],
        headers: IdempotencyHeaders,
        body: ChargeBody,
        response: { 201: ChargeJson, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request, reply) => {
      const charge = await payCodes.charge(currentUser(request), {
        code: request.body.payCode.trim(),
        amountMinor: BigInt(request.body.amountMinor),
        requestKey: requestKeyOf(request),
      });
      return reply.code(201).send(toChargeJson(charge));
    },
  );

  app.get(
    '/shops/mine/charges/:id',
    {
      schema: {
        summary: "One of my shop's charges, to poll until it is paid, failed, declined or expired (reading moves no money)",
        tags: ['pay codes'],
        params: ChargeParams,
        response: { 200: ChargeJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => toChargeJson(await payCodes.getForShop(currentUser(request), request.params.id)),
  );

  return Promise.resolve();
};
