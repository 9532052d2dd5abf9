import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Clock } from './kernel/clock.ts';
import type { Config } from './kernel/config.ts';
import type { Sql } from './kernel/db.ts';
import { createIdGenerator, type IdGenerator } from './kernel/ids.ts';
import { connectRedis } from './kernel/redis.ts';
import type { Random } from './kernel/random.ts';
import { resolveOperatorToken } from './http/auth.ts';
import { IdempotencyStore } from './http/idempotency.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { buildServer } from './http/server.ts';
import { registerWebApp } from './http/web.ts';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { DomainError } from './kernel/errors.ts';
import { Passes } from './kernel/passes.ts';
import { Identity, identityRoutes } from './identity/index.ts';
import { resolvePinKey } from './identity/pin-key.ts';
import { Social, socialRoutes } from './social/index.ts';
import { Ledger } from './ledger/index.ts';
import { adminRoutes, Operators } from './operator/index.ts';
import { ledgerRoutes } from './ledger/routes.ts';
import { PayCodes, payCodesRoutes, Payments, paymentsRoutes, Shops, shopsRoutes } from './payments/index.ts';
import { Rains, rainAdminRoutes, rainRoutes, RedPackets, redPacketRoutes } from './redpacket/index.ts';
import { Campaigns } from './marketing/campaigns.ts';
import { campaignRoutes } from './marketing/routes.ts';
import { MarketingEngine } from './marketing/engine.ts';
import { ensureFunds } from './marketing/funds.ts';
import { CampaignOperations } from './marketing/operations.ts';
import { operationsRoutes, voucherRoutes } from './marketing/ops-routes.ts';
import { AnnualBills } from './credit/annual.ts';
import { Consent } from './credit/consent.ts';
import { Deposits } from './credit/deposits.ts';
import { demoPartnerRoutes, partnerAdminRoutes, partnerRoutes } from './credit/partner-routes.ts';
import { Partners } from './credit/partners.ts';
import { creditRoutes } from './credit/routes.ts';
import { CreditScores } from './credit/scores.ts';
import { Apps } from './openapi/apps.ts';
import { registerGateway } from './openapi/gateway.ts';
import { Metering } from './openapi/metering.ts';
import { openapiMethods } from './openapi/methods.ts';
import { fetchPoster, Notifications, type Poster } from './openapi/notifications.ts';
import { openapiAdminRoutes, tradeRoutes } from './openapi/routes.ts';
import { Trades } from './openapi/trades.ts';

/**
 * The composition root: wires config, database, clock and randomness into the ledger and the
 * HTTP server. `main.ts` runs it against a real database and clock; tests build it on a test
 * schema and a fake clock and talk to it with `app.inject()`.
 */
export interface AppDeps {
  readonly config: Config;
  readonly sql: Sql;
  readonly clock: Clock;
  readonly random: Random;
  /** Fastify's logger option; tests leave it off. */
  readonly logger?: FastifyServerOptions['logger'];
  /** How open-platform notifications are posted (fetch by default). */
  readonly notifyPoster?: Poster;
}

export interface App {
  readonly http: FastifyInstance;
  readonly ledger: Ledger;
  readonly identity: Identity;
  readonly payments: Payments;
  readonly shops: Shops;
  readonly payCodes: PayCodes;
  readonly social: Social;
  readonly redPackets: RedPackets;
  readonly rains: Rains;
  /** The marketing engine: campaign definitions, their operations, and the checkout decisions. */
  readonly campaigns: Campaigns;
  readonly marketing: CampaignOperations;
  readonly engine: MarketingEngine;
  /** The open platform: apps, trades, notifications (and their loop, `openapiPass`). */
  readonly openapi: { readonly apps: Apps; readonly trades: Trades; readonly notifications: Notifications; readonly metering: Metering; runPass(): Promise<number> };
  /** Credit with real consent: partners, grants and the access log, scores, deposits, annual bills. */
  readonly credit: { readonly partners: Partners; readonly consent: Consent; readonly scores: CreditScores; readonly deposits: Deposits; readonly annual: AnnualBills };
  readonly operators: Operators;
  readonly idempotency: IdempotencyStore;
  readonly metrics: Metrics;
  readonly ids: IdGenerator;
  readonly clock: Clock;
  readonly operatorToken: string;
  /** Method and URL pattern of every route registered after the server's own. */
  readonly routes: readonly { readonly method: string; readonly url: string; readonly hasBody: boolean }[];
  readonly inject: FastifyInstance['inject'];
  /** Runs one pass of the periodic work (expire holds, prune idempotency records). */
  runMaintenance(): Promise<MaintenanceReport>;
  /** Starts the periodic loop; `close()` stops it. */
  startMaintenance(): void;
  /** Stops the loop, the server and the ledger writer; the caller owns `sql`. */
  close(): Promise<void>;
}

export interface MaintenanceReport {
  readonly expired: number;
  readonly pruned: number | null;
  /** Red packets closed at expiry, and those whose rest went back. */
  readonly packets: { readonly closed: number; readonly refunded: number };
  /** Rains whose window ended and whose rest went back to the budget. */
  readonly rainsRefunded: number;
}

/** Pruning is an indexed delete of day-old rows; once a minute is plenty. */
const pruneIntervalMs = 60_000;
const version = '0.1.0';

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, sql, clock, random } = deps;
  // Hot paths (red packet grabs) run on Redis when it is configured; the same operations run on
  // PostgreSQL when it is not.
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, config.redisPrefix);
  const ids = createIdGenerator(clock, random);
  const metrics = createMetrics();
  const ledger = new Ledger({
    sql,
    clock,
    ids,
    config: config.ledger,
    observer: metrics.ledgerObserver,
  });
  // One server secret keys both the PIN hashes and the idempotency fingerprints (ADR 0005).
  const pinKey = await resolvePinKey({ configured: config.pinKey, dataDir: config.dataDir, random });
  const idempotency = new IdempotencyStore({ sql, clock, bodyKey: pinKey });
  const http = await buildServer({
    sql,
    ids,
    metrics,
    idempotency,
    logger: deps.logger ?? false,
    version,
  });
  const operator = await resolveOperatorToken({
    configured: config.operatorToken,
    dataDir: config.dataDir,
    random,
  });
  if (operator.writtenTo !== null) {
    http.log.info(
      { file: operator.writtenTo },
      `operator token (also written to ${operator.writtenTo}): ${operator.token}`,
    );
  }
  // Every route the modules register, for the authorization walk in the tests.
  const routes: { method: string; url: string; hasBody: boolean }[] = [];
  http.addHook('onRoute', (route) => {
    const hasBody = (route.schema as { body?: unknown } | undefined)?.body !== undefined;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, hasBody });
  });
  await http.register(cookie);
  // Root-level so that every module's routes share the signed-in user set by authenticateUser.
  http.decorateRequest('user', null);
  // Limits apply only to routes that ask (login, PIN, payments), and answer in problem+json.
  await http.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new DomainError('request.rate_limited', { detail: `too many requests; retry in ${context.after}` }),
  });
  const identity = new Identity({ sql, clock, random, ids, ledger, pinKey });
  await http.register(identityRoutes, { prefix: '/v1', identity, ledger, loginRateMax: 20 });
  // The marketing engine decides discounts from memory, refreshed every second (fails closed).
  const engine = new MarketingEngine({ sql, clock, ledger, random, log: (message, detail) => { http.log.warn(detail, message); } });
  const payments = new Payments({ sql, clock, ids, ledger, identity, discounts: engine });
  await http.register(paymentsRoutes, { prefix: '/v1', payments, identity, pinRateMax: config.pinRateMax });
  const shops = new Shops({ sql, clock, ids, ledger, payments });
  await http.register(shopsRoutes, { prefix: '/v1', shops, identity, pinRateMax: config.pinRateMax });
  const payCodes = new PayCodes({ sql, clock, random, ids, identity, payments, shops, noPinMaxMinor: config.payCodeNoPinMaxMinor });
  await http.register(payCodesRoutes, { prefix: '/v1', payCodes, identity, pinRateMax: config.pinRateMax });
  const operators = new Operators({ sql, clock, random, ids });
  await http.register(adminRoutes, { prefix: '/v1/admin', operators, identity, ledger, sql });
  const social = new Social({ sql, clock, ids, users: identity });
  await http.register(socialRoutes, { prefix: '/v1', social, identity, requestRateMax: 30 });
  // Redis being away is logged (once a minute at most), not thrown: grabs answer 503 meanwhile.
  let redisErrorLoggedMs = 0;
  redis?.on('error', (error: Error) => {
    if (clock.nowMs() - redisErrorLoggedMs < 60_000 && redisErrorLoggedMs !== 0) return;
    redisErrorLoggedMs = clock.nowMs();
    http.log.warn({ err: error.message }, 'Redis is unreachable; red packet grabs answer 503 until it is back');
  });
  const rains = new Rains({ sql, clock, ids, random, ledger, redis, log: (message, detail) => { http.log.warn(detail, message); } });
  await rains.ensureBudgetAccount();
  const redPackets = new RedPackets({
    sql, clock, ids, random, ledger, identity, payments, social, rains,
    sharesMax: config.redpacketSharesMax,
    redis,
    log: (message, detail) => {
      http.log.warn(detail, message);
    },
  });
  await http.register(redPacketRoutes, { prefix: '/v1', redPackets, identity, pinRateMax: config.pinRateMax, grabRateMax: config.redpacketGrabRateMax });
  await http.register(rainRoutes, { prefix: '/v1', rains, redPackets, identity, tapRateMax: config.redpacketGrabRateMax });
  await http.register(rainAdminRoutes, { prefix: '/v1/admin', rains, redPackets, operators });
  const refreshEngine = (): void => {
    void engine.refresh().catch((error: unknown) => { http.log.warn({ err: String(error) }, 'marketing refresh failed'); });
  };
  const campaigns = new Campaigns({ sql, clock, ids, ledger, onChange: refreshEngine });
  const marketing = new CampaignOperations({ sql, clock, ids, ledger, campaigns, onChange: refreshEngine });
  await ensureFunds(ledger);
  await http.register(campaignRoutes, { prefix: '/v1/admin', campaigns, operators });
  await http.register(operationsRoutes, { prefix: '/v1/admin', operations: marketing, engine, operators, ledger, sql });
  await http.register(voucherRoutes, { prefix: '/v1', identity, sql });
  await engine.refresh();
  engine.start();
  // Guardrail 5: the burn-rate breaker looks every second, so a runaway campaign pauses within 5 s.
  const breaker = new Passes(() => marketing.breakerPass(), (error) => { http.log.warn({ err: String(error) }, 'marketing breaker pass failed'); });
  const breakerTimer = setInterval(() => { breaker.kick(); }, config.marketingBreakerIntervalMs);
  breakerTimer.unref();
  // Credit with real consent (issue 6): partners, grants, the access log, scores, deposits, the annual bill.
  http.decorateRequest('partner', null);
  const partners = new Partners({ sql, clock, ids, ledger });
  const consent = new Consent({ sql, clock, ids, partner: (id) => partners.get(id) });
  const scores = new CreditScores({ sql, clock });
  const deposits = new Deposits({ sql, clock, ids, ledger, identity, consent, scores });
  const annual = new AnnualBills({ sql, clock, consent, scores });
  await http.register(creditRoutes, { prefix: '/v1', clock, identity, consent, scores, partners, deposits, annual });
  await http.register(partnerRoutes, { prefix: '/v1/partner', partners, consent, scores, deposits, sql, clock });
  await http.register(partnerAdminRoutes, { prefix: '/v1/admin', partners, operators });
  await http.register(demoPartnerRoutes, { prefix: '/v1', partners, deposits, identity });
  // The open platform (issue 7): the Alipay-compatible gateway, its apps, trades and notifications.
  const apps = new Apps({ sql, clock, random, identity, shops });
  const notifications = new Notifications({ sql, clock, random, apps, post: deps.notifyPoster ?? fetchPoster });
  const trades = new Trades({ sql, clock, random, identity, payments, shops, payCodes, notifications });
  const metering = new Metering(metrics.registry, () => clock.nowMs());
  registerGateway(http, { apps, clock, metering, methods: openapiMethods({ sql, clock, ids, ledger, identity, trades }) });
  await http.register(openapiAdminRoutes, { prefix: '/v1/admin', apps, operators, notifications, metering, identity, payments, ledger, random });
  await http.register(tradeRoutes, { prefix: '/v1', trades, apps, identity, pinRateMax: config.pinRateMax });
  // Notifications go out and trades settle on their own loop, every second.
  const openapiPass = new Passes(async () => (await trades.sync()) + (await notifications.deliverDue()), (error) => { http.log.warn({ err: String(error) }, 'open platform pass failed'); });
  const openapiTimer = setInterval(() => { openapiPass.kick(); }, 1000);
  openapiTimer.unref();
  await http.register(ledgerRoutes, {
    prefix: '/v1/ledger',
    ledger,
    sql,
    operatorToken: operator.token,
    batchSizeMax: config.ledger.batchSizeMax,
  });
  if (!(await registerWebApp(http))) http.log.warn('web/dist is missing: run `npm run build` to serve the web app at /');
  const maintenance = createMaintenance({ ledger, payments, payCodes, redPackets, rains, idempotency, clock, http, scores });
  let maintenanceTimer: NodeJS.Timeout | undefined;
  http.addHook('onClose', async () => {
    clearInterval(maintenanceTimer);
    clearInterval(breakerTimer);
    clearInterval(openapiTimer);
    await openapiPass.close();
    engine.close();
    await breaker.close();
    await maintenance.idle();
    await redPackets.close();
    await rains.close();
    await ledger.close();
    await redis?.quit();
  });
  await http.ready();
  return {
    http,
    ledger,
    identity,
    payments,
    shops,
    payCodes,
    social,
    redPackets,
    rains,
    campaigns,
    marketing,
    engine,
    credit: { partners, consent, scores, deposits, annual },
    openapi: { apps, trades, notifications, metering, runPass: () => openapiPass.runNow() },
    operators,
    idempotency,
    metrics,
    ids,
    clock,
    operatorToken: operator.token,
    routes,
    inject: http.inject.bind(http),
    runMaintenance: () => maintenance.run(),
    startMaintenance: () => {
      if (maintenanceTimer !== undefined) return;
      maintenanceTimer = setInterval(maintenance.tick, config.ledger.expirySweepIntervalMs);
      // The loop must never be what keeps the process alive.
      maintenanceTimer.unref();
    },
    close: () => http.close(),
  };
}

/**
 * The periodic work. A tick that finds the previous pass still running skips, so a slow database
 * never piles passes up; errors are logged and the next tick tries again.
 */
function createMaintenance(deps: {
  readonly ledger: Ledger;
  readonly payments: Payments;
  readonly payCodes: PayCodes;
  readonly redPackets: RedPackets;
  readonly rains: Rains;
  readonly idempotency: IdempotencyStore;
  readonly clock: Clock;
  readonly http: FastifyInstance;
  readonly scores: CreditScores;
}) {
  let running: Promise<unknown> = Promise.resolve();
  let isRunning = false;
  let lastPruneMs: number | undefined;
  const run = async (): Promise<MaintenanceReport> => {
    const expired = await deps.ledger.expireDue();
    // Red packets: due packets close and pay back their rest; grabs a crash left unpaid are paid.
    const packets = await deps.redPackets.sweepExpired();
    deps.redPackets.kickSettler();
    const rainsRefunded = await deps.rains.sweepEnded();
    deps.rains.kick();
    const nowMs = deps.clock.nowMs();
    let pruned: number | null = null;
    if (lastPruneMs === undefined || nowMs - lastPruneMs >= pruneIntervalMs) {
      lastPruneMs = nowMs;
      pruned = await deps.idempotency.prune();
      // Payments left pending by requests that died are closed on the same slow cadence.
      const stale = await deps.payments.settleStale();
      if (stale.succeeded + stale.failed > 0) deps.http.log.info(stale, 'stale payments settled');
      const charges = await deps.payCodes.settleStale();
      if (charges > 0) deps.http.log.info({ charges }, 'stale payment-code charges finished');
      // Redis grab records a crashed process left behind are put on their shares.
      await deps.redPackets.syncAllActive();
      // Credit scores a day old are recomputed (a batch a pass; events make them stale sooner).
      await deps.scores.recomputeDue();
      const funding = await deps.redPackets.resolveStaleFunding();
      if (funding > 0) deps.http.log.info({ funding }, 'stale red packet sends resolved');
    }
    if (expired > 0 || (pruned ?? 0) > 0 || packets.closed + packets.refunded + rainsRefunded > 0)
      deps.http.log.info({ expired, pruned, packets, rainsRefunded }, 'maintenance pass');
    return { expired, pruned, packets, rainsRefunded };
  };
  const tick = (): void => {
    if (isRunning) return;
    isRunning = true;
    running = run()
      .catch((error: unknown) => {
        deps.http.log.error({ err: error }, 'maintenance pass failed');
      })
      .finally(() => {
        isRunning = false;
      });
  };
  return { run, tick, idle: () => running };
}
