import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import { idPattern } from '../kernel/ids.ts';
import { authenticateChangingOperator, authenticateOperator, type Operators } from '../operator/index.ts';
import { IdempotencyHeaders, Timestamp } from '../payments/schemas.ts';
import type { CampaignRow, Campaigns, DefinitionJson } from './campaigns.ts';
import { fundingKinds, labels, scenes } from './model.ts';

/**
 * Operator routes for campaigns, under /v1/admin: save (the guardrails answer 422 with every
 * problem and what to change), versions, submit, four-eyes approval, the kill switch. Viewers
 * read; they change nothing.
 */

const Money = Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$', description: 'fen, as digits' });
const Count = Type.Integer({ minimum: 0, maximum: 1_000_000 });

const DefinitionBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 60 }),
    template: Type.Union([
      Type.Object({ kind: Type.Literal('fixed'), amountMinor: Money, minSpendMinor: Type.Optional(Money) }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('percent'), basisPoints: Type.Integer({ minimum: 0, maximum: 10_000 }), capMinor: Type.Optional(Type.Union([Money, Type.Null()])) }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('random'), minMinor: Money, maxMinor: Money }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('threshold'), thresholdMinor: Money, amountMinor: Money }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('voucher'), amountMinor: Money, minSpendMinor: Money, validDays: Type.Integer({ minimum: 0, maximum: 1000 }) }, { additionalProperties: false }),
    ]),
    scenes: Type.Array(Type.Object({ scene: Type.Enum(scenes), reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }), { maxItems: scenes.length * 2 }),
    segment: Type.Union([
      Type.Object({ kind: Type.Literal('all') }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('new_users'), withinDays: Type.Integer({ minimum: 1, maximum: 365 }) }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('list'), userIds: Type.Array(Type.String({ pattern: idPattern('usr') }), { maxItems: 10_000 }) }, { additionalProperties: false }),
    ]),
    perUser: Type.Object({ countPerDay: Count, minorPerDay: Money, countPerCampaign: Count, minorPerCampaign: Money }, { additionalProperties: false }),
    startsAt: Timestamp,
    endsAt: Timestamp,
    label: Type.Enum(Object.keys(labels) as (keyof typeof labels)[]),
    budget: Type.Union([Type.Object({ funding: Type.Enum(fundingKinds), amountMinor: Money }, { additionalProperties: false }), Type.Null()]),
    testUserIds: Type.Optional(Type.Array(Type.String({ pattern: idPattern('usr') }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

const CampaignParams = Type.Object({ id: Type.String({ pattern: idPattern('cmp') }) });
const Any = Type.Any();

function campaignJson(campaigns: Campaigns, row: CampaignRow) {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    version: row.version,
    definition: row.definition,
    authorId: row.author_id,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at?.toISOString() ?? null,
    maximumExposureMinor: campaigns.exposureOf(row).toString(),
    stage: row.stage,
    forecast: row.forecast,
    pausedReason: row.paused_reason,
    pausedAt: row.paused_at?.toISOString() ?? null,
    budgetAccountId: row.budget_account_id,
    updatedAt: row.updated_at.toISOString(),
  };
}

export interface CampaignRoutesOptions {
  readonly campaigns: Campaigns;
  readonly operators: Operators;
}

export const campaignRoutes: FastifyPluginAsyncTypebox<CampaignRoutesOptions> = (app, options) => {
  const { campaigns } = options;
  const authenticate = authenticateOperator(options.operators);
  const canChange = authenticateChangingOperator(options.operators, 'change campaigns');
  const operatorId = (request: FastifyRequest): string => request.operator?.id ?? '';
  const changeConfig = { onRequest: canChange, config: { idempotent: true } };

  app.post('/campaigns', { ...changeConfig, schema: { summary: 'Save a new campaign (a draft; refused with every problem if a guardrail fails)', tags: ['marketing'], headers: IdempotencyHeaders, body: DefinitionBody, response: { 201: Any, ...problemResponses(400, 401, 403, 422) } } }, async (request, reply) =>
    reply.code(201).send(campaignJson(campaigns, await campaigns.create(operatorId(request), request.body as DefinitionJson))),
  );

  app.put('/campaigns/:id', { ...changeConfig, schema: { summary: 'Edit a campaign: a new version with its diff; an approved campaign goes back to draft', tags: ['marketing'], headers: IdempotencyHeaders, params: CampaignParams, body: DefinitionBody, response: { 200: Any, ...problemResponses(400, 401, 403, 404, 409, 422) } } }, async (request) =>
    campaignJson(campaigns, await campaigns.update(operatorId(request), request.params.id, request.body as DefinitionJson)),
  );

  app.get('/campaigns', { onRequest: authenticate, schema: { summary: 'Campaigns, most recently changed first', tags: ['marketing'], response: { 200: Any, ...problemResponses(401) } } }, async () => ({
    campaigns: (await campaigns.list()).map((row) => campaignJson(campaigns, row)),
    killSwitch: await campaigns.killSwitchEngaged(),
  }));

  app.get('/campaigns/:id', { onRequest: authenticate, schema: { summary: 'A campaign and its versions, each with its diff and author', tags: ['marketing'], params: CampaignParams, response: { 200: Any, ...problemResponses(400, 401, 404) } } }, async (request) => {
    const row = await campaigns.get(request.params.id);
    const versions = await campaigns.versions(row.id);
    return { ...campaignJson(campaigns, row), versions: versions.map((v) => ({ version: v.version, authorId: v.author_id, createdAt: v.created_at.toISOString(), diff: v.diff })) };
  });

  app.post('/campaigns/:id/submit', { ...changeConfig, schema: { summary: 'Send a draft for approval', tags: ['marketing'], headers: IdempotencyHeaders, params: CampaignParams, response: { 200: Any, ...problemResponses(400, 401, 403, 404, 409) } } }, async (request) =>
    campaignJson(campaigns, await campaigns.submit(request.params.id)),
  );

  app.post(
    '/campaigns/:id/approve',
    { ...changeConfig, schema: { summary: 'Approve (four eyes): another operator confirms the computed maximum exposure', tags: ['marketing'], headers: IdempotencyHeaders, params: CampaignParams, body: Type.Object({ confirmedExposureMinor: Money }, { additionalProperties: false }), response: { 200: Any, ...problemResponses(400, 401, 403, 404, 409) } } },
    async (request) => campaignJson(campaigns, await campaigns.approve(operatorId(request), request.params.id, BigInt(request.body.confirmedExposureMinor))),
  );

  app.post(
    '/marketing/kill-switch',
    { ...changeConfig, schema: { summary: 'Engage or release the kill switch: while engaged, no campaign discounts anything', tags: ['marketing'], headers: IdempotencyHeaders, body: Type.Object({ engaged: Type.Boolean(), reason: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }), response: { 200: Type.Object({ engaged: Type.Boolean() }), ...problemResponses(400, 401, 403) } } },
    async (request) => {
      await campaigns.setKillSwitch(operatorId(request), request.body.engaged, request.body.reason);
      return { engaged: await campaigns.killSwitchEngaged() };
    },
  );
  return Promise.resolve();
};
