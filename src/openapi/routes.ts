import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { DomainError } from '../kernel/errors.ts';
import { idPattern } from '../kernel/ids.ts';
import type { Random } from '../kernel/random.ts';
import { authenticateChangingOperator, authenticateOperator, type Operators } from '../operator/index.ts';
import { bankAccountId, type Payments } from '../payments/index.ts';
import { IdempotencyHeaders, Pin, toBillJson } from '../payments/schemas.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Apps, AppRow } from './apps.ts';
import type { Metering } from './metering.ts';
import { buyerId, formatAmount } from './model.ts';
import type { Notifications } from './notifications.ts';
import type { Trades } from './trades.ts';
import { publicKeyForms, publicKeyFrom } from './signing.ts';

/**
 * The open platform's own HTTP routes (the gateway is gateway.ts): operators register apps,
 * download platform keys, create sandbox accounts, read the delivery log and re-send, and see
 * each app's metering; wallet users see a trade (the app's name and the amount) and pay it with
 * the PIN.
 */
const Any = Type.Any();
const AppParams = Type.Object({ appId: Type.String({ pattern: '^[0-9]{16}$' }) });
const TradeParams = Type.Object({ tradeNo: Type.String({ pattern: '^[0-9]{28}$' }) });

export function appJson(row: AppRow) {
  return { appId: row.app_id, name: row.name, shopId: row.shop_id, notifyUrls: row.notify_urls, ratePerSecond: row.rate_per_second, platformPublicKey: publicKeyForms(publicKeyFrom(row.platform_public_key)), createdAt: row.created_at.toISOString(), disabled: row.disabled_at !== null };
}

export interface OpenapiAdminOptions {
  readonly apps: Apps;
  readonly operators: Operators;
  readonly notifications: Notifications;
  readonly metering: Metering;
  readonly identity: Identity;
  readonly payments: Payments;
  readonly ledger: Ledger;
  readonly random: Random;
}

export const openapiAdminRoutes: FastifyPluginAsyncTypebox<OpenapiAdminOptions> = (app, options) => {
  const authenticate = authenticateOperator(options.operators);
  const canChange = authenticateChangingOperator(options.operators, 'change apps');
  const tags = ['openapi'];
  app.post(
    '/openapi/apps',
    { onRequest: canChange, config: { idempotent: true }, schema: { summary: 'Register an ISV app: its public key, the merchant behind it, notify URLs, a rate limit; answers the platform public key', tags, headers: IdempotencyHeaders, body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 60 }), ownerUserId: Type.String({ pattern: idPattern('usr') }), appPublicKey: Type.String({ minLength: 100, maxLength: 4000 }), notifyUrls: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 20 })), ratePerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })) }, { additionalProperties: false }), response: { 201: Any, ...problemResponses(400, 401, 403, 422) } } },
    async (request, reply) => {
      const created = await options.apps.create(request.operator?.id ?? '', { ...request.body, notifyUrls: request.body.notifyUrls ?? [] });
      return reply.code(201).send(appJson(created.app));
    },
  );
  app.get('/openapi/apps', { onRequest: authenticate, schema: { summary: 'Registered apps with their metering (calls, error rate, p99)', tags, response: { 200: Any, ...problemResponses(401) } } }, async () => ({
    apps: (await options.apps.list()).map((row) => ({ ...appJson(row), metering: options.metering.view(row.app_id) })),
  }));
  app.get('/openapi/apps/:appId/platform-key', { onRequest: authenticate, schema: { summary: "The app's platform public key, as SPKI PEM (and bare base64 in JSON with ?format=json)", tags, params: AppParams, querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('pem'), Type.Literal('json')])) }), response: { 200: Any, ...problemResponses(400, 401, 404) } } }, async (request, reply) => {
    const live = await options.apps.require(request.params.appId);
    const forms = publicKeyForms(publicKeyFrom(live.row.platform_public_key));
    return request.query.format === 'json' ? forms : reply.type('application/x-pem-file').send(forms.pem);
  });
  app.post(
    '/openapi/apps/:appId/sandbox-accounts',
    { onRequest: canChange, config: { idempotent: true }, schema: { summary: 'A sandbox buyer: a wallet user with a PIN and ¥10,000, and its buyer id', tags, headers: IdempotencyHeaders, params: AppParams, response: { 201: Any, ...problemResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      const live = await options.apps.require(request.params.appId);
      const mobile = `170${String(options.random.int(10_000_000, 100_000_000))}`;
      const password = `sandbox-${String(options.random.int(100_000, 1_000_000))}`;
      const pin = String(options.random.int(100_000, 1_000_000));
      const session = await options.identity.signUp({ mobile, password, displayName: `沙箱买家 ${mobile.slice(-4)}` });
      await options.identity.setPin(session.user.id, { pin, password });
      const funded = await options.ledger.transfer({ id: `sandbox-fund:${session.user.id}`, type: 'posted', debitAccountId: bankAccountId, creditAccountId: session.user.walletAccountId, amountMinor: 1_000_000n, currency: 'CNY', kind: 'topup' });
      if (funded.status === 'failed') throw new DomainError(funded.error, { detail: funded.detail });
      const buyer = buyerId(session.user.id);
      await options.apps.rememberBuyer(buyer, session.user.id);
      const seller = await options.identity.getUser(live.shop.ownerUserId);
      return reply.code(201).send({ buyer: { userId: session.user.id, buyerId: buyer, mobile, password, pin, balance: formatAmount(1_000_000n) }, seller: { userId: live.shop.ownerUserId, buyerId: buyerId(live.shop.ownerUserId), mobile: seller?.mobile ?? null, shopId: live.shop.id } });
    },
  );
  app.get('/openapi/notifications', { onRequest: authenticate, schema: { summary: 'The delivery log: each notification, its attempts and the last answer', tags, querystring: Type.Object({ appId: Type.Optional(Type.String({ pattern: '^[0-9]{16}$' })) }), response: { 200: Any, ...problemResponses(400, 401) } } }, async (request) => ({
    notifications: (await options.notifications.list(request.query.appId ?? null)).map((n) => ({ notifyId: n.notify_id, appId: n.app_id, tradeNo: n.trade_no, event: n.event, url: n.url, status: n.status, attempts: n.attempts, nextAt: n.next_at.toISOString(), lastStatus: n.last_status, lastBody: n.last_body, lastAt: n.last_at?.toISOString() ?? null, createdAt: n.created_at.toISOString() })),
  }));
  app.post('/openapi/notifications/:notifyId/resend', { onRequest: canChange, config: { idempotent: true }, schema: { summary: 'Send a notification again now', tags, headers: IdempotencyHeaders, params: Type.Object({ notifyId: Type.String({ pattern: '^[0-9]{26}$' }) }), response: { 200: Any, ...problemResponses(400, 401, 403, 404) } } }, async (request) => {
    if (!(await options.notifications.resend(request.params.notifyId))) throw new DomainError('openapi.notification_not_found');
    return { queued: true };
  });
  return Promise.resolve();
};

/** The wallet's cashier for open-platform trades: see the trade, pay it with the PIN. */
export const tradeRoutes: FastifyPluginAsyncTypebox<{ readonly trades: Trades; readonly apps: Apps; readonly identity: Identity; readonly pinRateMax: number }> = (app, options) => {
  app.addHook('onRequest', authenticateUser(options.identity));
  const tags = ['openapi'];
  app.get('/trades/:tradeNo', { schema: { summary: "A trade to pay: the app's name, the merchant, the subject and the amount (before the PIN)", tags, params: TradeParams, response: { 200: Any, ...problemResponses(400, 401, 404) } } }, async (request) => {
    const trade = await options.trades.forBuyer(request.params.tradeNo);
    return { tradeNo: trade.trade_no, appName: trade.app_name, shopName: trade.shop_name, subject: trade.subject, amountMinor: trade.total_minor.toString(), status: trade.status, expiresAt: trade.expires_at.toISOString() };
  });
  app.post(
    '/trades/:tradeNo/pay',
    { config: { idempotent: true, rateLimit: { max: options.pinRateMax, timeWindow: 60_000, keyGenerator: (request: FastifyRequest) => request.user?.id ?? request.ip } }, schema: { summary: 'Pay a trade with the PIN: a shop payment to the merchant behind the app, once', tags, headers: IdempotencyHeaders, params: TradeParams, body: Type.Object({ pin: Pin }, { additionalProperties: false }), response: { 201: Any, ...problemResponses(400, 401, 403, 404, 409, 422, 423, 429) } } },
    async (request, reply) => {
      const trade = await options.trades.forBuyer(request.params.tradeNo);
      const live = await options.apps.require(trade.app_id);
      const paid = await options.trades.payAsBuyer(currentUser(request), trade, request.body.pin, live);
      return reply.code(201).send({ status: paid.trade.status, bill: toBillJson(paid.bill), returnUrl: options.trades.returnUrl(paid.trade, live) });
    },
  );
  return Promise.resolve();
};
