import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { normalizeMemo } from './model.ts';
import { BillJson, IdempotencyHeaders, toBillJson } from './schemas.ts';
import {
  CreateOrderBody,
  OpenShopBody,
  OrderJson,
  OrderParams,
  PayTargetJson,
  PayTargetParams,
  PayTargetQuery,
  RefundBody,
  ShopJson,
  ShopListJson,
  ShopPaymentBody,
  ShopPaymentParams,
  toOrderJson,
  toPayTargetJson,
  toShopJson,
} from './shops-schemas.ts';
import { billResponder, requestKeyOf, sendPaymentOutcome } from './routes.ts';
import { payLink, type Shops } from './shops.ts';

/**
 * Shops under /v1: open a shop, see it with its balance and its receive QR, create orders,
 * resolve a scanned code and pay it. Every route needs a signed-in user; owner routes look the
 * shop up by that user, so another user's shop or order answers the same 404 as a missing one.
 *
 * Shop payment precedence (tests follow it): 401 → 400 Idempotency-Key → 400 schema → replay →
 * 404 code → 422 own shop → 409 order expired / paid → 422 amount → PIN (409/423/403) →
 * 422 daily limit → the ledger's 422 (insufficient funds).
 */
export interface ShopsRoutesOptions {
  readonly shops: Shops;
  readonly identity: Identity;
  /** Requests per minute per user on the PIN-bearing route. */
  readonly pinRateMax: number;
}

export const shopsRoutes: FastifyPluginAsyncTypebox<ShopsRoutesOptions> = (app, options) => {
  const { shops } = options;
  app.addHook('onRequest', authenticateUser(options.identity));

  app.post(
    '/shops',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Open my shop (one per user), with its own merchant ledger account',
        tags: ['shops'],
        headers: IdempotencyHeaders,
        body: OpenShopBody,
        response: { 201: ShopJson, ...problemResponses(400, 401, 409) },
      },
    },
    async (request, reply) => {
      const user = currentUser(request);
      await shops.openShop(user, { name: request.body.name });
      const shop = await shops.myShop(user.id);
      return reply.code(201).send(toShopJson(shop, payLink(shop.receiveCode)));
    },
  );

  app.get(
    '/shops',
    {
      schema: {
        summary: 'My shops (none or one), with balances',
        tags: ['shops'],
        response: { 200: ShopListJson, ...problemResponses(401) },
      },
    },
    async (request) => ({
      shops: (await shops.listShops(currentUser(request).id)).map((shop) =>
        toShopJson(shop, payLink(shop.receiveCode)),
      ),
    }),
  );

  app.get(
    '/shops/mine',
    {
      schema: {
        summary: 'My shop with its balance',
        tags: ['shops'],
        response: { 200: ShopJson, ...problemResponses(401, 404) },
      },
    },
    async (request) => {
      const shop = await shops.myShop(currentUser(request).id);
      return toShopJson(shop, payLink(shop.receiveCode));
    },
  );

  app.get(
    '/shops/mine/qr.svg',
    {
      schema: {
        summary: "My shop's static receive QR code (SVG) of its pay link",
        tags: ['shops'],
        response: { 200: Type.String(), ...problemResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const svg = await shops.myShopQrSvg(currentUser(request).id);
      return reply.type('image/svg+xml').send(svg);
    },
  );

  app.post(
    '/shops/mine/orders',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Create an order: a fixed-amount code, payable once within 2 hours',
        tags: ['shops'],
        headers: IdempotencyHeaders,
        body: CreateOrderBody,
        response: { 201: OrderJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const order = await shops.createOrder(currentUser(request).id, {
        amountMinor: BigInt(request.body.amountMinor),
        note: normalizeMemo(request.body.note),
      });
      return reply.code(201).send(toOrderJson(order, payLink(order.receiveCode)));
    },
  );

  app.get(
    '/shops/mine/orders/:id',
    {
      schema: {
        summary: "One of my shop's orders: open, paid or expired",
        tags: ['shops'],
        params: OrderParams,
        response: { 200: OrderJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const order = await shops.getOrder(currentUser(request).id, request.params.id);
      return toOrderJson(order, payLink(order.receiveCode));
    },
  );

  app.get(
    '/pay-targets/:code',
    {
      schema: {
        summary: 'What a scanned receive code pays: the shop, and a fixed amount for an order',
        tags: ['shops'],
        params: PayTargetParams,
        querystring: PayTargetQuery,
        response: { 200: PayTargetJson, ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const amount = request.query.amountMinor;
      return toPayTargetJson(await shops.resolve(request.params.code, { user: currentUser(request), amountMinor: amount === undefined ? undefined : BigInt(amount) }));
    },
  );

  app.post(
    '/shop-payments',
    {
      config: {
        // Deferred like a transfer's (ADR 0014): payShop is safe to run twice at once.
        idempotent: 'deferred',
        rateLimit: {
          max: options.pinRateMax,
          timeWindow: 60_000,
          keyGenerator: (request: FastifyRequest) => request.user?.id ?? request.ip,
        },
      },
      schema: {
        summary: 'Pay a shop by its code from my wallet (PIN; daily limit)',
        description: '201 when this request moved the money, 200 when an earlier attempt had.',
        tags: ['shops'],
        headers: IdempotencyHeaders,
        body: ShopPaymentBody,
        response: {
          200: BillJson,
          201: BillJson,
          ...problemResponses(400, 401, 403, 404, 409, 422, 423, 429),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await shops.pay(currentUser(request), {
        code: body.code,
        amountMinor: body.amountMinor === undefined ? undefined : BigInt(body.amountMinor),
        pin: body.pin,
        requestKey: requestKeyOf(request),
        respond: billResponder(request),
        offerId: body.offerId,
      });
      return sendPaymentOutcome(request, reply, outcome);
    },
  );
  app.post(
    '/shop-payments/:id/refunds',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Refund all or part of a payment to my shop, back to the payer',
        description: 'Several partial refunds may follow, never more in all than the payment.',
        tags: ['shops'],
        headers: IdempotencyHeaders,
        params: ShopPaymentParams,
        body: RefundBody,
        response: { 200: BillJson, 201: BillJson, ...problemResponses(400, 401, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const outcome = await shops.refund(currentUser(request), {
        paymentId: request.params.id,
        amountMinor: BigInt(request.body.amountMinor),
        requestKey: requestKeyOf(request),
      });
      return reply.code(outcome.created ? 201 : 200).send(toBillJson(outcome.bill));
    },
  );

  return Promise.resolve();
};
