import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import { idPattern } from '../kernel/ids.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { authenticateChangingOperator, authenticateOperator, type Operators } from '../operator/index.ts';
import { IdempotencyHeaders } from '../payments/schemas.ts';
import type { Consent } from './consent.ts';
import type { Deposits } from './deposits.ts';
import { authenticatePartner, currentPartner, partnerJson, partnerKinds, partnerPurposes, type Partners } from './partners.ts';
import { depositJson } from './routes.ts';
import type { CreditScores } from './scores.ts';

/**
 * The partner API under /v1/partner (Bearer partner key): the credit score under a live
 * `credit.score.share` grant — the full score or only the threshold answer, exactly as the grant
 * allows — the payments summary under `data.collect.payments`, and deposits. Every read is
 * logged against its grant before the answer leaves; a read without a live grant is logged as
 * refused and answers 403 `credit.consent_required`. And the operators' partner registration.
 */
export interface PartnerRoutesOptions {
  readonly partners: Partners;
  readonly consent: Consent;
  readonly scores: CreditScores;
  readonly deposits: Deposits;
  readonly sql: Sql;
  readonly clock: Clock;
}

const Any = Type.Any();
const UserParams = Type.Object({ userId: Type.String({ pattern: idPattern('usr') }) });
const DepositParams = Type.Object({ id: Type.String({ pattern: idPattern('dep') }) });
const Amount = Type.String({ pattern: '^[1-9][0-9]{0,12}$', description: 'fen, as digits' });

export const partnerRoutes: FastifyPluginAsyncTypebox<PartnerRoutesOptions> = (app, options) => {
  const { consent } = options;
  app.addHook('onRequest', authenticatePartner(options.partners));
  const tags = ['partner'];
  const who = (request: FastifyRequest) => {
    const partner = currentPartner(request);
    return { partner, accessor: { kind: 'partner' as const, id: partner.id, name: partner.name } };
  };

  app.get('/users/:userId/credit-score', { schema: { summary: 'A user\'s credit score, as their credit.score.share grant allows (full, or the threshold answer)', tags, params: UserParams, response: { 200: Any, ...problemResponses(400, 401, 403, 404) } } }, async (request) => {
    const { partner, accessor } = who(request);
    const grant = await consent.authorize(request.params.userId, 'credit.score.share', accessor, 'credit score', partner.id);
    const { score } = await options.scores.get(request.params.userId);
    // The answer carries exactly what the grant allows.
    if (grant.scope.level === 'full') return { grantId: grant.id, scope: 'full', score };
    return { grantId: grant.id, scope: 'threshold', threshold: partner.score_threshold, meets: score >= partner.score_threshold };
  });

  app.get('/users/:userId/payments-summary', { schema: { summary: 'A user\'s payments by month (counts and amounts) under data.collect.payments', tags, params: UserParams, response: { 200: Any, ...problemResponses(400, 401, 403, 404) } } }, async (request) => {
    const { partner, accessor } = who(request);
    const grant = await consent.authorize(request.params.userId, 'data.collect.payments', accessor, 'payments summary by month', partner.id);
    const months = await options.sql<{ month: string; count: number; minor: bigint }[]>`
      SELECT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month, count(*)::int AS count, sum(amount_minor)::int8 AS minor
      FROM payments WHERE user_id = ${request.params.userId} AND status = 'succeeded' AND kind IN ('p2p', 'shop', 'redpacket')
        AND created_at >= ${new Date(options.clock.nowMs() - 365 * 86_400_000)}
      GROUP BY 1 ORDER BY 1`;
    return { grantId: grant.id, months: months.map((m) => ({ month: m.month, count: m.count, minor: m.minor.toString() })) };
  });

  app.post(
    '/deposits',
    { config: { idempotent: true }, schema: { summary: 'Ask for a deposit: waived under a live credit.deposit_waiver grant and a score at the threshold, else held on the user\'s balance', tags, headers: IdempotencyHeaders, body: Type.Object({ userId: Type.String({ pattern: idPattern('usr') }), amountMinor: Amount, description: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }), response: { 200: Any, 201: Any, ...problemResponses(400, 401, 404, 422) } } },
    async (request, reply) => {
      const { partner } = who(request);
      const { deposit, created } = await options.deposits.request(partner, { userId: request.body.userId, amountMinor: BigInt(request.body.amountMinor), description: request.body.description, requestKey: String(request.headers['idempotency-key']) });
      return reply.code(created ? 201 : 200).send(depositJson(deposit));
    },
  );
  app.get('/deposits/:id', { schema: { summary: 'One of my deposits', tags, params: DepositParams, response: { 200: Any, ...problemResponses(400, 401, 404) } } }, async (request) => depositJson(await options.deposits.get(who(request).partner, request.params.id)));
  app.post('/deposits/:id/return', { config: { idempotent: true }, schema: { summary: 'The item is back: the hold is released', tags, headers: IdempotencyHeaders, params: DepositParams, response: { 200: Any, ...problemResponses(400, 401, 404, 409) } } }, async (request) =>
    depositJson(await options.deposits.returned(who(request).partner, request.params.id)),
  );
  app.post(
    '/deposits/:id/charge',
    { config: { idempotent: true }, schema: { summary: 'Damage or loss: part of the deposit goes to the partner (the rest is released)', tags, headers: IdempotencyHeaders, params: DepositParams, body: Type.Object({ amountMinor: Amount }, { additionalProperties: false }), response: { 200: Any, ...problemResponses(400, 401, 404, 409, 422) } } },
    async (request) => depositJson(await options.deposits.charge(who(request).partner, request.params.id, BigInt(request.body.amountMinor))),
  );
  return Promise.resolve();
};

/** Operators register partners (the API key is shown once) and list them. */
export const partnerAdminRoutes: FastifyPluginAsyncTypebox<{ readonly partners: Partners; readonly operators: Operators }> = (app, options) => {
  const authenticate = authenticateOperator(options.operators);
  const canChange = authenticateChangingOperator(options.operators, 'register partners');
  app.post(
    '/partners',
    { onRequest: canChange, config: { idempotent: true }, schema: { summary: 'Register a partner: its purposes and score threshold; the answer holds its API key, shown once', tags: ['partner'], headers: IdempotencyHeaders, body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 60 }), kind: Type.Enum(partnerKinds), purposes: Type.Array(Type.Enum(partnerPurposes), { minItems: 1, maxItems: partnerPurposes.length }), scoreThreshold: Type.Integer({ minimum: 350, maximum: 950 }) }, { additionalProperties: false }), response: { 201: Any, ...problemResponses(400, 401, 403) } } },
    async (request, reply) => {
      const { partner, apiKey } = await options.partners.register(request.operator?.id ?? '', request.body);
      return reply.code(201).send({ ...partnerJson(partner), apiKey });
    },
  );
  app.get('/partners', { onRequest: authenticate, schema: { summary: 'Registered partners', tags: ['partner'], response: { 200: Any, ...problemResponses(401) } } }, async () => ({ partners: (await options.partners.list()).map(partnerJson) }));
  return Promise.resolve();
};

export const demoPartnerName = '小蓝单车 Demo Bikes';

/**
 * The demo partner, played by the server for the web app (a real partner calls /v1/partner with
 * its key from its own server): a signed-in user rents a bike, which asks for a ¥199 deposit as
 * that partner would; returns it; or reports damage. Answers 404 when no demo partner is seeded.
 */
export const demoPartnerRoutes: FastifyPluginAsyncTypebox<{ readonly partners: Partners; readonly deposits: Deposits; readonly identity: Identity }> = (app, options) => {
  app.addHook('onRequest', authenticateUser(options.identity));
  const demo = async () => {
    const partner = (await options.partners.list()).find((p) => p.name === demoPartnerName && p.disabled_at === null);
    if (partner === undefined) throw new DomainError('credit.partner_not_found', { detail: 'no demo partner on this server' });
    return partner;
  };
  const tags = ['partner'];
  app.get('/demo-partner', { schema: { summary: 'The demo partner (a bike rental) and my deposits with it', tags, response: { 200: Any, ...problemResponses(401, 404) } } }, async (request) => {
    const partner = await demo();
    const mine = (await options.deposits.listForUser(currentUser(request).id)).filter((d) => d.partner_id === partner.id);
    return { partner: partnerJson(partner), depositMinor: '19900', deposits: mine.map(depositJson) };
  });
  app.post('/demo-partner/rentals', { config: { idempotent: true }, schema: { summary: 'Rent a demo bike: the partner asks for its ¥199 deposit (waived or held)', tags, headers: IdempotencyHeaders, response: { 201: Any, 200: Any, ...problemResponses(400, 401, 404, 422) } } }, async (request, reply) => {
    const { deposit, created } = await options.deposits.request(await demo(), { userId: currentUser(request).id, amountMinor: 19_900n, description: 'bike rental', requestKey: `demo:${currentUser(request).id}:${String(request.headers['idempotency-key'])}` });
    return reply.code(created ? 201 : 200).send(depositJson(deposit));
  });
  const own = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const partner = await demo();
    const deposit = await options.deposits.get(partner, request.params.id);
    if (deposit.user_id !== currentUser(request).id) throw new DomainError('credit.deposit_not_found');
    return partner;
  };
  app.post('/demo-partner/rentals/:id/return', { config: { idempotent: true }, schema: { summary: 'Return the demo bike: the deposit is released', tags, headers: IdempotencyHeaders, params: DepositParams, response: { 200: Any, ...problemResponses(400, 401, 404, 409) } } }, async (request) =>
    depositJson(await options.deposits.returned(await own(request), request.params.id)),
  );
  app.post('/demo-partner/rentals/:id/damage', { config: { idempotent: true }, schema: { summary: 'Report damage to the demo bike: ¥50 of the deposit goes to the partner', tags, headers: IdempotencyHeaders, params: DepositParams, response: { 200: Any, ...problemResponses(400, 401, 404, 409, 422) } } }, async (request) =>
    depositJson(await options.deposits.charge(await own(request), request.params.id, 5_000n)),
  );
  return Promise.resolve();
};
