import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { completedWithEffect, jsonContentType } from '../http/idempotency.ts';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { billsPageSizeDefault, normalizeMemo } from './model.ts';
import {
  BillJson,
  BillPageJson,
  BillParams,
  BillsQuery,
  BindCardBody,
  CardJson,
  CardListJson,
  CardParams,
  CardPaymentBody,
  IdempotencyHeaders,
  SummaryJson,
  SummaryQuery,
  toBillJson,
  toCardJson,
  toSummaryJson,
  TransferBody,
} from './schemas.ts';
import type { PaymentOutcome, Payments, ResponseRecorder } from './service.ts';

/**
 * The wallet user's payments API under /v1: bank cards, top-up, withdrawal, transfer, bills.
 * Every route needs a signed-in user, and every id in a path is looked up together with that
 * user, so another user's card or bill answers the same 404 as a missing one. Money-moving POSTs
 * take an Idempotency-Key and the payment PIN, and are rate-limited per user.
 *
 * Precedence (tests follow it): 401 → 400 Idempotency-Key → 400 schema → idempotent replay →
 * 404 card/recipient → 422 self → PIN (409 not set, 423 locked, 403 wrong) → 422 daily limit →
 * the ledger's 422 (insufficient funds).
 */
export interface PaymentsRoutesOptions {
  readonly payments: Payments;
  readonly identity: Identity;
  /** Requests per minute per user on the PIN-bearing routes. */
  readonly pinRateMax: number;
}

const moneyProblems = problemResponses(400, 401, 403, 404, 409, 422, 423, 429);

/** The request's Idempotency-Key: the idempotency hook has already required and checked it. */
export function requestKeyOf(request: FastifyRequest): string {
  return String(request.headers['idempotency-key']);
}

function moneyInput(request: FastifyRequest, body: { amountMinor: string; pin: string }) {
  return { amountMinor: BigInt(body.amountMinor), pin: body.pin, requestKey: requestKeyOf(request) };
}

/**
 * Lets a payment store this request's response in its own transaction (ADR 0007): the bill as
 * JSON, the same string that is then sent, so a replay is byte for byte the first answer.
 */
export function billResponder(request: FastifyRequest): ResponseRecorder | undefined {
  const claim = request.idempotency;
  return claim === null ? undefined : { claim, render: (bill) => JSON.stringify(toBillJson(bill)) };
}

/** 201 when this request moved the money, 200 when an earlier attempt had; a stored body as is. */
export function sendPaymentOutcome(request: FastifyRequest, reply: FastifyReply, outcome: PaymentOutcome): FastifyReply {
  if (outcome.storedBody !== undefined) {
    completedWithEffect(request);
    return reply.code(201).type(jsonContentType).send(outcome.storedBody);
  }
  return reply.code(outcome.created ? 201 : 200).send(toBillJson(outcome.bill));
}

type PaymentsApp = Parameters<FastifyPluginAsyncTypebox>[0];

function registerCardRoutes(app: PaymentsApp, payments: Payments): void {
  app.get(
    '/cards',
    {
      schema: {
        summary: 'My bound bank cards',
        tags: ['payments'],
        response: { 200: CardListJson, ...problemResponses(401) },
      },
    },
    async (request) => ({
      cards: (await payments.listCards(currentUser(request).id)).map(toCardJson),
    }),
  );

  app.post(
    '/cards',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Bind a (simulated) bank card: bank and last 4 digits',
        tags: ['payments'],
        headers: IdempotencyHeaders,
        body: BindCardBody,
        response: { 201: CardJson, ...problemResponses(400, 401, 409, 422) },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(toCardJson(await payments.bindCard(currentUser(request).id, request.body))),
  );

  app.delete(
    '/cards/:id',
    {
      schema: {
        summary: 'Unbind one of my bank cards',
        tags: ['payments'],
        params: CardParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await payments.unbindCard(currentUser(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );
}

function registerMoneyRoutes(app: PaymentsApp, options: PaymentsRoutesOptions): void {
  const { payments } = options;
  // Per signed-in user, not per address: many users share a carrier's NAT. The limiter runs after
  // the plugin's authentication hook, so the user is known here.
  const rateLimit = {
    max: options.pinRateMax,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => request.user?.id ?? request.ip,
  };
  const config = { idempotent: true, rateLimit };
  // A transfer's handler is safe to run twice at once (ADR 0004: one ledger id per request), and
  // a direct one writes its key's record in its own transaction: no claim row first (ADR 0014).
  const deferredConfig = { idempotent: 'deferred' as const, rateLimit };
  const responses = { 200: BillJson, 201: BillJson, ...moneyProblems };

  app.post(
    '/topups',
    {
      config,
      schema: {
        summary: 'Top up the wallet from a bound card (PIN; daily limit)',
        description:
          '201 when this request moved the money, 200 when an earlier attempt of it had.',
        tags: ['payments'],
        headers: IdempotencyHeaders,
        body: CardPaymentBody,
        response: responses,
      },
    },
    async (request, reply) => {
      const outcome = await payments.topUp(currentUser(request), {
        ...moneyInput(request, request.body),
        cardId: request.body.cardId,
      });
      return reply.code(outcome.created ? 201 : 200).send(toBillJson(outcome.bill));
    },
  );

  app.post(
    '/withdrawals',
    {
      config,
      schema: {
        summary: 'Withdraw from the wallet to a bound card (PIN; daily limits)',
        tags: ['payments'],
        headers: IdempotencyHeaders,
        body: CardPaymentBody,
        response: responses,
      },
    },
    async (request, reply) => {
      const outcome = await payments.withdraw(currentUser(request), {
        ...moneyInput(request, request.body),
        cardId: request.body.cardId,
      });
      return reply.code(outcome.created ? 201 : 200).send(toBillJson(outcome.bill));
    },
  );

  app.post(
    '/transfers',
    {
      config: deferredConfig,
      schema: {
        summary: 'Transfer to another user by mobile number or user id, with a memo (PIN)',
        tags: ['payments'],
        headers: IdempotencyHeaders,
        body: TransferBody,
        response: responses,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await payments.transfer(currentUser(request), {
        ...moneyInput(request, body),
        toMobile: body.toMobile,
        toUserId: body.toUserId,
        memo: normalizeMemo(body.memo),
        respond: billResponder(request),
      });
      return sendPaymentOutcome(request, reply, outcome);
    },
  );
}

function registerBillRoutes(app: PaymentsApp, payments: Payments): void {
  app.get(
    '/bills',
    {
      schema: {
        summary: 'My bills, newest first, filtered by direction, month and kind',
        tags: ['payments'],
        querystring: BillsQuery,
        response: { 200: BillPageJson, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const query = request.query;
      const limit = query.limit === undefined ? billsPageSizeDefault : Number(query.limit);
      const page = await payments.listBills(currentUser(request).id, {
        direction: query.direction,
        kind: query.kind,
        month: query.month,
        cursor: query.cursor,
        limit,
      });
      return { bills: page.bills.map(toBillJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/bills/summary',
    {
      schema: {
        summary: "A month's income, spending and spending by kind (default: this month)",
        tags: ['payments'],
        querystring: SummaryQuery,
        response: { 200: SummaryJson, ...problemResponses(400, 401) },
      },
    },
    async (request) =>
      toSummaryJson(await payments.monthSummary(currentUser(request).id, request.query.month)),
  );

  app.get(
    '/bills/:id',
    {
      schema: {
        summary: 'One of my bills',
        tags: ['payments'],
        params: BillParams,
        response: { 200: BillJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) =>
      toBillJson(await payments.getBill(currentUser(request).id, request.params.id)),
  );
}

export const paymentsRoutes: FastifyPluginAsyncTypebox<PaymentsRoutesOptions> = async (
  app,
  options,
) => {
  await options.payments.ensureSystemAccounts();
  // Every route here is a signed-in user's; the hook runs before the body is read.
  app.addHook('onRequest', authenticateUser(options.identity));
  registerCardRoutes(app, options.payments);
  registerMoneyRoutes(app, options);
  registerBillRoutes(app, options.payments);
};
