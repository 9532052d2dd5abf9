import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { idPattern } from '../kernel/ids.ts';
import type { Ledger } from '../ledger/index.ts';
import { authenticateChangingOperator, authenticateOperator, type Operators } from '../operator/index.ts';
import { bankAccountId } from '../payments/index.ts';
import { IdempotencyHeaders } from '../payments/schemas.ts';
import type { MarketingEngine } from './engine.ts';
import { depositFund, ensureFunds, fundAccounts, fundBalances } from './funds.ts';
import { fundingKinds, scenes } from './model.ts';
import type { CampaignOperations } from './operations.ts';
import { selectEvents, selectVouchers } from './store.ts';
import type { Sql } from '../kernel/db.ts';

/**
 * Operator routes for running campaigns (dry run, rollout, pause and resume, end, vouchers, the
 * incident report, the burn-rate chart, events, funds, the engine's view), and the user's
 * voucher list. Money is digit strings of fen.
 */
const Money = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'fen, as digits' });
const Params = Type.Object({ id: Type.String({ pattern: idPattern('cmp') }) });
const Reason = Type.Object({ reason: Type.String({ minLength: 3, maxLength: 200 }) }, { additionalProperties: false });
const Any = Type.Any();
const str = (value: bigint): string => value.toString();

export interface OperationsRoutesOptions {
  readonly operations: CampaignOperations;
  readonly engine: MarketingEngine;
  readonly operators: Operators;
  readonly ledger: Ledger;
  readonly sql: Sql;
}

export const operationsRoutes: FastifyPluginAsyncTypebox<OperationsRoutesOptions> = (app, options) => {
  const { operations, engine } = options;
  const authenticate = authenticateOperator(options.operators);
  const canChange = authenticateChangingOperator(options.operators, 'change campaigns');
  const actor = (request: FastifyRequest): string => request.operator?.id ?? '';
  const change = { onRequest: canChange, config: { idempotent: true } };
  const tags = ['marketing'];

  app.post(
    '/campaigns/:id/dry-run',
    {
      ...change,
      schema: {
        summary: 'Replay the campaign over the last 24 h of payments (or a stated sample): spend per minute, peak, exposure, scene mix',
        tags,
        headers: IdempotencyHeaders,
        params: Params,
        body: Type.Object(
          { sample: Type.Optional(Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: 1440 }), payments: Type.Array(Type.Object({ scene: Type.Enum(scenes), userId: Type.String({ pattern: idPattern('usr') }), amountMinor: Money }, { additionalProperties: false }), { maxItems: 100_000 }) }, { additionalProperties: false })) },
          { additionalProperties: false },
        ),
        response: { 200: Any, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const sample = request.body.sample;
      return operations.dryRun(request.params.id, sample === undefined ? undefined : { minutes: sample.minutes, payments: sample.payments.map((p) => ({ scene: p.scene, userId: p.userId, amountMinor: BigInt(p.amountMinor) })) });
    },
  );

  const simple = (path: string, summary: string, run: (request: FastifyRequest<{ Params: { id: string }; Body: { reason: string } }>) => Promise<unknown>, withReason: boolean) => {
    app.post(path, { ...change, schema: { summary, tags, headers: IdempotencyHeaders, params: Params, ...(withReason ? { body: Reason } : {}), response: { 200: Any, ...problemResponses(400, 401, 403, 404, 409, 422) } } }, async (request) => run(request as never));
  };
  simple('/campaigns/:id/promote', 'Promote to the next rollout stage (test list → 1% → 10% → 100%), only while spend tracks the forecast', async (r) => ({ stage: (await operations.promote(actor(r), r.params.id)).stage }), false);
  simple('/campaigns/:id/pause', 'Pause a campaign (with a reason)', async (r) => {
    await options.operations.pause(actor(r), r.params.id, r.body.reason);
    return { paused: true };
  }, true);
  simple('/campaigns/:id/resume', 'Resume a paused campaign (with a reason)', async (r) => ({ status: (await operations.resume(actor(r), r.params.id, r.body.reason)).status }), true);
  simple('/campaigns/:id/end', 'End a campaign: what is left of its budget goes back to its fund', async (r) => {
    const ended = await operations.end(actor(r), r.params.id);
    return { status: ended.campaign.status, returnedMinor: str(ended.returnedMinor) };
  }, false);

  app.post(
    '/campaigns/:id/vouchers',
    { ...change, schema: { summary: 'Issue one voucher to each listed user (a voucher campaign, approved)', tags, headers: IdempotencyHeaders, params: Params, body: Type.Object({ userIds: Type.Array(Type.String({ pattern: idPattern('usr') }), { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }), response: { 200: Any, ...problemResponses(400, 401, 403, 404, 409, 422) } } },
    async (request) => operations.issueVouchers(request.params.id, request.body.userIds, String(request.headers['idempotency-key'])),
  );

  app.get('/campaigns/:id/report', { onRequest: authenticate, schema: { summary: 'Incident report: the payments a campaign touched and its total cost', tags, params: Params, response: { 200: Any, ...problemResponses(400, 401, 404) } } }, async (request) => {
    const report = await operations.report(request.params.id);
    return {
      campaignId: report.campaign.id,
      status: report.campaign.status,
      totalMinor: str(report.totalMinor),
      count: Number(report.count),
      budgetLeftMinor: str(report.budgetLeftMinor),
      byScene: report.byScene.map((s) => ({ scene: s.scene, minor: str(s.minor), count: Number(s.count) })),
      payments: report.payments.map((p) => ({ id: p.id, kind: p.kind, scene: p.scene, userId: p.user_id, paidMinor: str(p.amount_minor), discountMinor: str(p.discount_minor), createdAt: p.created_at.toISOString() })),
    };
  });

  app.get('/campaigns/:id/burn', { onRequest: authenticate, schema: { summary: 'Spend per minute and scene over the last hour, with the forecast and the breaker line', tags, params: Params, response: { 200: Any, ...problemResponses(400, 401, 404) } } }, async (request) => {
    const burn = await operations.burn(request.params.id);
    return { forecastPerMinuteMinor: str(burn.forecastPerMinuteMinor), breakerLineMinor: str(burn.breakerLineMinor), minutes: burn.minutes.map((m) => ({ minute: m.minute.toISOString(), scene: m.scene, minor: str(m.minor) })) };
  });

  app.get('/marketing/events', { onRequest: authenticate, schema: { summary: 'Breaker trips, pauses, promotions, the kill switch: newest first', tags, querystring: Type.Object({ campaignId: Type.Optional(Type.String({ pattern: idPattern('cmp') })) }, { additionalProperties: false }), response: { 200: Any, ...problemResponses(400, 401) } } }, async (request) => ({
    events: (await selectEvents(options.sql, request.query.campaignId ?? null, 200)).map((e) => ({ id: e.id, campaignId: e.campaign_id, kind: e.kind, detail: e.detail, actor: e.actor, createdAt: e.created_at.toISOString() })),
  }));

  app.get('/marketing/funds', { onRequest: authenticate, schema: { summary: 'The funds campaign budgets come from, by kind', tags, response: { 200: Any, ...problemResponses(401) } } }, async () => {
    await ensureFunds(options.ledger);
    const balances = await fundBalances(options.ledger);
    return { funds: fundingKinds.map((kind) => ({ kind, accountId: fundAccounts[kind].id, balanceMinor: str(balances[kind]) })) };
  });

  app.post(
    '/marketing/funds/:kind/deposits',
    { ...change, schema: { summary: 'Deposit into a fund (from the bank)', tags, headers: IdempotencyHeaders, params: Type.Object({ kind: Type.Enum(fundingKinds) }), body: Type.Object({ amountMinor: Money }, { additionalProperties: false }), response: { 201: Any, ...problemResponses(400, 401, 403, 422) } } },
    async (request, reply) => {
      const kind = request.params.kind;
      await ensureFunds(options.ledger);
      await depositFund(options.ledger, { kind, amountMinor: BigInt(request.body.amountMinor), requestKey: `${actor(request)}:${String(request.headers['idempotency-key'])}`, fromAccountId: bankAccountId });
      return reply.code(201).send({ kind, balanceMinor: str((await fundBalances(options.ledger))[kind]) });
    },
  );

  app.get('/marketing/engine', { onRequest: authenticate, schema: { summary: "The checkout engine's view in this process: live campaigns, the kill switch, decision p99", tags, response: { 200: Any, ...problemResponses(401) } } }, () => {
    const snap = engine.snapshot();
    return { killed: snap.killed, refreshedAt: new Date(snap.refreshedAtMs).toISOString(), decisionP99Ms: engine.decisionP99Ms(), campaigns: snap.campaigns.map((c) => ({ ...c, budgetLeftMinor: str(c.budgetLeftMinor), perOrderMaxMinor: c.perOrderMaxMinor === null ? null : str(c.perOrderMaxMinor) })) };
  });
  return Promise.resolve();
};

/** The signed-in user's vouchers, newest first. */
export const voucherRoutes: FastifyPluginAsyncTypebox<{ readonly identity: Identity; readonly sql: Sql }> = (app, options) => {
  app.get('/vouchers', { onRequest: authenticateUser(options.identity), schema: { summary: 'My vouchers (issued, used; expired ones show their date)', tags: ['marketing'], response: { 200: Any, ...problemResponses(401) } } }, async (request) => ({
    vouchers: (await selectVouchers(options.sql, currentUser(request).id)).map((v) => ({ id: v.id, campaignId: v.campaign_id, amountMinor: str(v.amount_minor), minSpendMinor: str(v.min_spend_minor), status: v.status, expiresAt: v.expires_at.toISOString(), usedAt: v.used_at?.toISOString() ?? null })),
  }));
  return Promise.resolve();
};
