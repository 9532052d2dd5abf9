import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { idPattern } from '../kernel/ids.ts';
import { authenticateChangingOperator, authenticateOperator, type Operators } from '../operator/index.ts';
import { bankAccountId } from '../payments/index.ts';
import { AmountMinor, IdempotencyHeaders, Timestamp } from '../payments/schemas.ts';
import { greetingLengthMax } from './model.ts';
import { rainModes } from './rain-model.ts';
import type { RainRow } from './rain-store.ts';
import { campaignBudgetAccountId, type Rains } from './rain.ts';
import { PacketJson, toPacketJson } from './schemas.ts';
import type { RedPackets } from './service.ts';

/**
 * The hourly rain's HTTP API: users see the current rain, tap it (each tap wins a prize or
 * nothing; over the per-user rate, 429) and hand fission packets to friends; operators fund the
 * campaign budget, schedule rains and watch them pay out.
 */

const RainParams = Type.Object({ id: Type.String({ pattern: idPattern('rain') }) });

function rainJson(rain: RainRow) {
  return {
    id: rain.id,
    name: rain.name,
    mode: rain.mode,
    poolMinor: rain.pool_minor.toString(),
    prizeCount: rain.prize_count,
    startsAt: rain.starts_at.toISOString(),
    endsAt: rain.ends_at.toISOString(),
    staggerMs: rain.stagger_ms,
    perUserWinsMax: rain.per_user_wins_max,
    perUserMinorMax: rain.per_user_minor_max.toString(),
    fissionShares: rain.fission_shares,
    fissionMinor: rain.fission_minor.toString(),
    splitSha256: rain.split_sha256,
    status: rain.status,
    refundMinor: rain.refund_minor?.toString() ?? null,
  };
}

const RainJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  mode: Type.Enum(rainModes),
  poolMinor: Type.String(),
  prizeCount: Type.Integer(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  staggerMs: Type.Integer(),
  perUserWinsMax: Type.Integer(),
  perUserMinorMax: Type.String(),
  fissionShares: Type.Integer(),
  fissionMinor: Type.String(),
  splitSha256: Type.String(),
  status: Type.Enum(['scheduled', 'closed', 'refunded'] as const),
  refundMinor: Type.Union([Type.String(), Type.Null()]),
});

const AuditJson = Type.Object({ ok: Type.Boolean(), problems: Type.Array(Type.String()) });
const WinJson = Type.Object({ prizeSeq: Type.Integer(), amountMinor: Type.String(), wonAt: Timestamp, settled: Type.Boolean() });
const MyRainJson = Type.Intersect([RainJson, Type.Object({ myStartsAt: Timestamp, myWins: Type.Array(WinJson) })]);

export interface RainRoutesOptions {
  readonly rains: Rains;
  readonly redPackets: RedPackets;
  readonly identity: Identity;
  /** Taps per second per user. */
  readonly tapRateMax: number;
}

export const rainRoutes: FastifyPluginAsyncTypebox<RainRoutesOptions> = (app, options) => {
  const { rains } = options;
  app.addHook('onRequest', authenticateUser(options.identity));
  const perUser = (request: FastifyRequest) => request.user?.id ?? request.ip;

  const mine = async (rain: RainRow, userId: string) => ({
    ...rainJson(rain),
    myStartsAt: rains.userStartsAt(rain, userId).toISOString(),
    myWins: (await rains.myWins(rain.id, userId)).map((w) => ({ prizeSeq: w.seq, amountMinor: w.amount_minor.toString(), wonAt: w.won_at.toISOString(), settled: w.settled_at !== null })),
  });

  app.get('/rains/current', { schema: { summary: 'Rains running now or starting within a day, with my start and my wins', tags: ['rain'], response: { 200: Type.Object({ rains: Type.Array(MyRainJson) }), ...problemResponses(401) } } }, async (request) => {
    const userId = currentUser(request).id;
    return { rains: await Promise.all((await rains.current()).map((rain) => mine(rain, userId))) };
  });

  app.get('/rains/:id', { schema: { summary: 'A rain, with my start and my wins', tags: ['rain'], params: RainParams, response: { 200: MyRainJson, ...problemResponses(400, 401, 404) } } }, async (request) => mine(await rains.get(request.params.id), currentUser(request).id));

  app.post(
    '/rains/:id/taps',
    {
      config: { rateLimit: { max: options.tapRateMax, timeWindow: 1000, keyGenerator: perUser } },
      schema: {
        summary: 'Tap: win the next released prize, or nothing (咻一咻)',
        tags: ['rain'],
        params: RainParams,
        response: { 200: Type.Object({ won: Type.Boolean(), amountMinor: Type.String(), prizeSeq: Type.Union([Type.Integer(), Type.Null()]), capped: Type.Boolean() }), ...problemResponses(400, 401, 404, 409, 410, 429) },
      },
    },
    async (request) => {
      const outcome = await rains.tap(currentUser(request).id, request.params.id);
      return { won: outcome.won, amountMinor: outcome.amountMinor.toString(), prizeSeq: outcome.prizeSeq, capped: outcome.capped };
    },
  );

  app.post(
    '/rains/:id/fission',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Hand a fission packet (funded by the campaign) to my friends, once per prize won',
        tags: ['rain'],
        params: RainParams,
        headers: IdempotencyHeaders,
        body: Type.Object({ prizeSeq: Type.Integer({ minimum: 0 }), greeting: Type.Optional(Type.String({ maxLength: greetingLengthMax, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })) }, { additionalProperties: false }),
        response: { 200: PacketJson, 201: PacketJson, ...problemResponses(400, 401, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const { packet, created } = await options.redPackets.sendFission(currentUser(request), { rainId: request.params.id, prizeSeq: request.body.prizeSeq, greeting: request.body.greeting });
      return reply.code(created ? 201 : 200).send(toPacketJson(packet));
    },
  );
  return Promise.resolve();
};

export interface RainAdminRoutesOptions {
  readonly rains: Rains;
  readonly redPackets: RedPackets;
  readonly operators: Operators;
}

const ScheduleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 40 }),
    mode: Type.Enum(rainModes, { description: 'line_cut (rain-style jackpots) or double_mean' }),
    poolMinor: AmountMinor,
    prizeCount: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    startsAt: Timestamp,
    durationSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
    staggerMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    perUserWinsMax: Type.Integer({ minimum: 1, maximum: 1000 }),
    perUserMinorMax: AmountMinor,
    fissionShares: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
    fissionMinor: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$' })),
  },
  { additionalProperties: false },
);

/** Operator routes, under /v1/admin. */
export const rainAdminRoutes: FastifyPluginAsyncTypebox<RainAdminRoutesOptions> = (app, options) => {
  const { rains } = options;
  const authenticate = authenticateOperator(options.operators);
  const canSchedule = authenticateChangingOperator(options.operators, 'move campaign money');

  app.get('/campaign-budget', { onRequest: authenticate, schema: { summary: 'The campaign budget rains are funded from', tags: ['admin'], response: { 200: Type.Object({ accountId: Type.String(), balanceMinor: Type.String() }), ...problemResponses(401) } } }, async () => {
    await rains.ensureBudgetAccount();
    return { accountId: campaignBudgetAccountId, balanceMinor: (await rains.budgetBalance()).toString() };
  });

  app.post(
    '/campaign-budget/deposits',
    { onRequest: canSchedule, config: { idempotent: true }, schema: { summary: 'Deposit into the campaign budget (from the bank)', tags: ['admin'], headers: IdempotencyHeaders, body: Type.Object({ amountMinor: AmountMinor }, { additionalProperties: false }), response: { 201: Type.Object({ accountId: Type.String(), balanceMinor: Type.String() }), ...problemResponses(400, 401, 403, 422) } } },
    async (request, reply) => {
      await rains.ensureBudgetAccount();
      const balance = await rains.depositBudget(BigInt(request.body.amountMinor), `${request.operator?.id ?? ''}:${String(request.headers['idempotency-key'])}`, bankAccountId);
      return reply.code(201).send({ accountId: campaignBudgetAccountId, balanceMinor: balance.toString() });
    },
  );

  app.post(
    '/rains',
    { onRequest: canSchedule, config: { idempotent: true }, schema: { summary: 'Schedule a rain: the pool moves from the campaign budget into its escrow', tags: ['admin'], headers: IdempotencyHeaders, body: ScheduleBody, response: { 201: RainJson, ...problemResponses(400, 401, 403, 422) } } },
    async (request, reply) => {
      const body = request.body;
      await rains.ensureBudgetAccount();
      const rain = await rains.schedule(request.operator?.id ?? '', {
        name: body.name,
        mode: body.mode,
        poolMinor: BigInt(body.poolMinor),
        prizeCount: body.prizeCount,
        startsAt: new Date(body.startsAt),
        durationMs: body.durationSeconds * 1000,
        staggerMs: body.staggerMs,
        perUserWinsMax: body.perUserWinsMax,
        perUserMinorMax: BigInt(body.perUserMinorMax),
        fissionShares: body.fissionShares,
        fissionMinor: body.fissionMinor === undefined ? undefined : BigInt(body.fissionMinor),
      });
      return reply.code(201).send(rainJson(rain));
    },
  );

  app.get('/rains', { onRequest: authenticate, schema: { summary: 'Rains, newest first', tags: ['admin'], response: { 200: Type.Object({ rains: Type.Array(RainJson) }), ...problemResponses(401) } } }, async () => ({ rains: (await rains.list(50)).map(rainJson) }));

  app.get(
    '/rains/:id',
    {
      onRequest: authenticate,
      schema: {
        summary: 'A rain and how it paid out: won so far, and per tenth of the window (the chart)',
        tags: ['admin'],
        params: RainParams,
        response: { 200: Type.Object({ rain: RainJson, wonCount: Type.Integer(), wonMinor: Type.String(), settledMinor: Type.String(), buckets: Type.Array(Type.Object({ bucket: Type.Integer(), wonMinor: Type.String(), wonCount: Type.Integer() })), audit: AuditJson }), ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const buckets = 10;
      const { rain, totals, series } = await rains.stats(request.params.id, buckets);
      const audit = await rains.audit(rain.id);
      const byBucket = new Map(series.map((row) => [row.bucket, row]));
      return {
        rain: rainJson(rain),
        wonCount: totals.won_count,
        wonMinor: totals.won_minor.toString(),
        settledMinor: totals.settled_minor.toString(),
        buckets: Array.from({ length: buckets }, (_, bucket) => ({ bucket, wonMinor: (byBucket.get(bucket)?.won_minor ?? 0n).toString(), wonCount: byBucket.get(bucket)?.won_count ?? 0 })),
        audit: { ok: audit.ok, problems: [...audit.problems] },
      };
    },
  );

  app.get(
    '/redpackets/:id/audit',
    {
      onRequest: authenticate,
      schema: {
        summary: "A red packet's reconciliation: escrow + paid out + refunded = sent; shares sum to it; Redis agrees",
        tags: ['admin'],
        params: Type.Object({ id: Type.String({ pattern: idPattern('rpk') }) }),
        response: { 200: Type.Object({ packetId: Type.String(), ok: Type.Boolean(), amountMinor: Type.String(), escrowMinor: Type.String(), paidOutMinor: Type.String(), refundedMinor: Type.String(), sharesMinor: Type.String(), problems: Type.Array(Type.String()) }), ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const audit = await options.redPackets.audit(request.params.id);
      return { ...audit, amountMinor: audit.amountMinor.toString(), escrowMinor: audit.escrowMinor.toString(), paidOutMinor: audit.paidOutMinor.toString(), refundedMinor: audit.refundedMinor.toString(), sharesMinor: audit.sharesMinor.toString(), problems: [...audit.problems] };
    },
  );
  return Promise.resolve();
};
