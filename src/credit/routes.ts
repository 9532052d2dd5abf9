import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import type { Clock } from '../kernel/clock.ts';
import { DomainError } from '../kernel/errors.ts';
import { idPattern } from '../kernel/ids.ts';
import { IdempotencyHeaders } from '../payments/schemas.ts';
import type { AnnualBills, AnnualBill } from './annual.ts';
import type { AccessRow, Consent, GrantRow } from './consent.ts';
import type { Deposits, DepositRow } from './deposits.ts';
import { partnerJson, type Partners } from './partners.ts';
import type { CreditScores, ScoreRow } from './scores.ts';
import { consentText, consentTexts } from './texts.ts';

/**
 * The user's side of credit and consent, under /v1: the texts, grants (agree explicitly, list,
 * revoke), "who used my data", the score with its factors, deposits, the annual bill and its
 * share link; and the public share card. Another user's grant id answers 404.
 */
export interface CreditRoutesOptions {
  readonly clock: Clock;
  readonly identity: Identity;
  readonly consent: Consent;
  readonly scores: CreditScores;
  readonly partners: Partners;
  readonly deposits: Deposits;
  readonly annual: AnnualBills;
}

const Any = Type.Any();
const str = (value: bigint): string => value.toString();

export function grantJson(row: GrantRow, nowMs: number) {
  const state = row.revoked_at !== null ? 'revoked' : row.expires_at.getTime() <= nowMs ? 'expired' : 'live';
  return { id: row.id, purpose: row.purpose, partnerId: row.partner_id, scope: row.scope.level, textVersion: row.text_version, textSha256: row.text_sha256, agreedAt: row.agreed_at.toISOString(), expiresAt: row.expires_at.toISOString(), revokedAt: row.revoked_at?.toISOString() ?? null, state };
}

export function accessJson(row: AccessRow) {
  return { id: row.id, accessor: { kind: row.accessor_kind, id: row.accessor_id, name: row.accessor_name }, purpose: row.purpose, grantId: row.grant_id, data: row.data, outcome: row.outcome, reason: row.reason, at: row.at.toISOString() };
}

export function scoreJson(row: ScoreRow) {
  return { score: row.score, min: 350, max: 950, factors: row.factors, computedAt: row.computed_at.toISOString() };
}

export function depositJson(row: DepositRow) {
  return { id: row.id, partnerId: row.partner_id, userId: row.user_id, amountMinor: str(row.amount_minor), description: row.description, status: row.status, waived: row.grant_id !== null && row.hold_transfer_id === null, chargedMinor: row.charged_minor === null ? null : str(row.charged_minor), createdAt: row.created_at.toISOString(), closedAt: row.closed_at?.toISOString() ?? null };
}

function annualJson(bill: AnnualBill) {
  return {
    year: bill.year,
    spentMinor: str(bill.spentMinor),
    receivedMinor: str(bill.receivedMinor),
    byCategory: bill.byCategory.map((c) => ({ kind: c.kind, minor: str(c.minor), count: c.count })),
    byMonth: bill.byMonth.map((m) => ({ month: m.month, spentMinor: str(m.spentMinor), receivedMinor: str(m.receivedMinor) })),
    topShops: bill.topShops.map((s) => ({ name: s.name, minor: str(s.minor), count: s.count })),
    redPackets: bill.redPackets,
    forest: bill.forest,
    wealth: bill.wealth,
  };
}

const Year = Type.Object({ year: Type.String({ pattern: '^[0-9]{4}$' }) });

export const creditRoutes: FastifyPluginAsyncTypebox<CreditRoutesOptions> = (app, options) => {
  const { consent } = options;
  const now = (): number => options.clock.nowMs();
  const user = { onRequest: authenticateUser(options.identity) };
  const tags = ['credit'];

  app.get('/consent/texts', { schema: { summary: 'Every consent text, with its version and sha256 (what a grant must name)', tags, response: { 200: Any } } }, () => ({ texts: consentTexts() }));
  app.get('/consent/texts/:purpose', { schema: { summary: 'One purpose\'s current text', tags, params: Type.Object({ purpose: Type.String({ maxLength: 64 }) }), response: { 200: Any, ...problemResponses(404) } } }, (request) => {
    const text = consentText(request.params.purpose);
    if (text === undefined) throw new DomainError('consent.text_not_found', { detail: `no purpose ${request.params.purpose}` });
    return text;
  });
  app.get('/partners', { ...user, schema: { summary: 'Partners that may ask for consent, with their purposes and thresholds', tags, response: { 200: Any, ...problemResponses(401) } } }, async () => ({
    partners: (await options.partners.list()).filter((p) => p.disabled_at === null).map((p) => ({ id: p.id, name: p.name, kind: p.kind, purposes: p.purposes, scoreThreshold: p.score_threshold })),
  }));

  app.post(
    '/consent/grants',
    {
      ...user,
      config: { idempotent: true },
      schema: {
        summary: 'Grant a purpose: only with agree: true and the sha256 of the text shown',
        tags,
        headers: IdempotencyHeaders,
        body: Type.Object(
          { purpose: Type.String({ maxLength: 64 }), partnerId: Type.Optional(Type.String({ pattern: idPattern('ptn') })), scope: Type.Optional(Type.String({ maxLength: 32 })), textSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }), agree: Type.Optional(Type.Unknown()), days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })) },
          { additionalProperties: false },
        ),
        response: { 201: Any, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request, reply) => {
      const row = await consent.grant(currentUser(request).id, request.body);
      return reply.code(201).send(grantJson(row, now()));
    },
  );
  app.get('/consent/grants', { ...user, schema: { summary: 'My grants: live, expired and revoked', tags, response: { 200: Any, ...problemResponses(401) } } }, async (request) => ({
    grants: (await consent.listGrants(currentUser(request).id)).map((g) => grantJson(g, now())),
  }));
  app.post(
    '/consent/grants/:id/revoke',
    { ...user, config: { idempotent: true }, schema: { summary: 'Revoke a grant: the next read under it is refused', tags, headers: IdempotencyHeaders, params: Type.Object({ id: Type.String({ pattern: idPattern('cns') }) }), response: { 200: Any, ...problemResponses(400, 401, 404) } } },
    async (request) => grantJson(await consent.revoke(currentUser(request).id, request.params.id), now()),
  );
  app.get('/consent/access-log', { ...user, schema: { summary: 'Who used my data: every read by a partner or a feature, and every refusal', tags, response: { 200: Any, ...problemResponses(401) } } }, async (request) => ({
    entries: (await consent.accessLog(currentUser(request).id)).map(accessJson),
  }));

  app.get('/credit/score', { ...user, schema: { summary: 'My credit score (350–950), its factors and how to improve them', tags, response: { 200: Any, ...problemResponses(401) } } }, async (request) => scoreJson(await options.scores.get(currentUser(request).id)));
  app.get('/credit/deposits', { ...user, schema: { summary: 'Deposits partners asked me for: waived, held, returned, charged', tags, response: { 200: Any, ...problemResponses(401) } } }, async (request) => {
    const partners = new Map((await options.partners.list()).map((p) => [p.id, p]));
    return { deposits: (await options.deposits.listForUser(currentUser(request).id)).map((d) => ({ ...depositJson(d), partner: partners.has(d.partner_id) ? partnerJson(partners.get(d.partner_id) as never) : null })) };
  });

  app.get('/annual-bill/:year', { ...user, schema: { summary: 'My annual bill (private): spent, received, by category and month, top shops, red packets', tags, params: Year, response: { 200: Any, ...problemResponses(400, 401, 422) } } }, async (request) =>
    annualJson(await options.annual.compute(currentUser(request).id, Number(request.params.year))),
  );
  app.post(
    '/annual-bill/:year/share',
    { ...user, config: { idempotent: true }, schema: { summary: 'A public share card link: needs the annual_bill.publish grant (and annual_bill.publish_score to show the score)', tags, headers: IdempotencyHeaders, params: Year, body: Type.Object({ includeScore: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), response: { 201: Any, ...problemResponses(400, 401, 403, 422) } } },
    async (request, reply) => {
      const shared = await options.annual.share(currentUser(request).id, Number(request.params.year), request.body.includeScore === true);
      return reply.code(201).send({ token: shared.token, path: `/#/share/${shared.token}`, includesScore: shared.includesScore });
    },
  );
  app.get('/public/annual-bills/:token', { schema: { summary: 'A published share card (no sign-in); 404 once its grant is revoked', tags, params: Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{32}$' }) }), response: { 200: Any, ...problemResponses(400, 404) } } }, async (request) => {
    const card = await options.annual.card(request.params.token);
    return { ...card, spentMinor: str(card.spentMinor), receivedMinor: str(card.receivedMinor) };
  });
  return Promise.resolve();
};
