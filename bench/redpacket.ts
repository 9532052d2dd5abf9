/**
 * `npm run bench -- redpacket [--quick]`: the red packet stampede over HTTP, in one run.
 * 1. `GET /healthz` on the server, as the yardstick.
 * 2. One group packet of 100,000 shares; 200 connections make 300,000 grab attempts from 150,000
 *    distinct users (each user twice, the second much later) — with Redis (REDIS_URL, else the
 *    machine's redis://127.0.0.1:6379), then again on PostgreSQL alone on a fresh packet. Counted:
 *    wins (201s), duplicates (a user granted twice), the audit (sum equal to the packet, Redis and
 *    PostgreSQL agreeing), and the seconds from the last grab until every win is paid in the ledger.
 * 3. A rain: 1,000,000 taps from 100,000 users over a window sized to the measured tap rate;
 *    the pool never exceeded, and the share of the pool paid in each tenth of the window. Grabs
 *    answered 409 (empty) and taps answered 409 (this user's staggered start not yet come) are
 *    outcomes, not errors.
 * `--quick` scales everything down tenfold (the rain to 40,000 taps), to finish within a minute. Users are set up in bulk through SQL (not measured).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { buildApp, type App } from '../src/app.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig, type Config } from '../src/kernel/config.ts';
import { connect, migrate, type Sql } from '../src/kernel/db.ts';
import { createIdGenerator } from '../src/kernel/ids.ts';
import { cryptoRandom } from '../src/kernel/random.ts';
import { resolvePinKey } from '../src/identity/pin-key.ts';
import { reconcile } from '../src/ledger/index.ts';
import { bankAccountId } from '../src/payments/index.ts';
import { openBenchDatabase } from './database.ts';
import { errorCount, phaseObserver, runLoad, setUpUsers, type LoadResult } from './http-common.ts';

const pin = '802413';
const connections = 200;

interface Scale {
  readonly users: number;
  readonly shares: number;
  readonly rainUsers: number;
  readonly taps: number;
  readonly healthzSeconds: number;
}

const full: Scale = { users: 150_000, shares: 100_000, rainUsers: 100_000, taps: 1_000_000, healthzSeconds: 15 };
const quick: Scale = { users: 15_000, shares: 10_000, rainUsers: 10_000, taps: 40_000, healthzSeconds: 5 };

async function redisReachable(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Every user twice, the second attempts after all the first ones, dealt round-robin to the connections. */
function grabSequences(userCount: number, attemptsPerUser: number): number[][] {
  const order: number[] = [];
  for (let round = 0; round < attemptsPerUser; round++) {
    const users = Array.from({ length: userCount }, (_, i) => i);
    for (let i = users.length - 1; i > 0; i--) {
      const j = cryptoRandom.int(0, i + 1);
      [users[i], users[j]] = [users[j] ?? 0, users[i] ?? 0];
    }
    // Not push(...users): 150,000 arguments overflow the stack.
    for (const user of users) order.push(user);
  }
  const sequences: number[][] = Array.from({ length: connections }, () => []);
  order.forEach((user, index) => sequences[index % connections]?.push(user));
  return sequences;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) return Number.POSITIVE_INFINITY;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (performance.now() - started) / 1000;
}

interface GrabPhase {
  readonly load: LoadResult;
  readonly wins: number;
  readonly settleSeconds: number;
  readonly auditOk: boolean;
  readonly sumOk: boolean;
}

async function grabPhase(app: App, sql: Sql, input: { sender: { id: string }; groupId: string; tokens: string[]; scale: Scale; baseUrl: string; step: (text: string) => void; observer?: ReturnType<typeof phaseObserver> }): Promise<GrabPhase> {
  const sender = await app.identity.getUser(input.sender.id);
  if (sender === undefined) throw new Error('no sender');
  const amountMinor = BigInt(input.scale.shares) * 100n;
  const { packet } = await app.redPackets.send(sender, { mode: 'lucky', amountMinor, count: input.scale.shares, groupId: input.groupId, pin, requestKey: randomBytes(8).toString('hex') });
  input.step(`packet ${packet.id} sent; grabbing`);
  const grabs = () => runLoad({ baseUrl: input.baseUrl, mode: 'sequence', seconds: 0, connections, pairs: [], pin, runId: 'g', tokens: input.tokens, path: `/v1/redpackets/${packet.id}/grab`, sequences: grabSequences(input.tokens.length, 2) });
  const load = input.observer === undefined ? await grabs() : await input.observer.phase('grab', grabs);
  const wins = load.statuses['201'] ?? 0;
  input.step(`grabs done: ${load.rps.toFixed(0)}/s; waiting for settlement`);
  app.redPackets.kickSettler();
  const settleSeconds = await waitUntil(async () => {
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM redpacket_shares WHERE packet_id = ${packet.id} AND settled_at IS NOT NULL`;
    return (row?.n ?? 0) >= wins;
  }, 120_000);
  const audit = await app.redPackets.audit(packet.id);
  const [sums] = await sql<{ total: bigint; n: number; users: number }[]>`
    SELECT coalesce(sum(amount_minor), 0)::int8 AS total, count(*)::int AS n, count(DISTINCT grabbed_by)::int AS users
    FROM redpacket_shares WHERE packet_id = ${packet.id} AND grabbed_by IS NOT NULL`;
  const sumOk = sums !== undefined && sums.total === amountMinor && sums.n === wins && sums.users === wins && audit.paidOutMinor === amountMinor;
  return { load, wins, settleSeconds, auditOk: audit.ok, sumOk };
}

async function rainPhase(app: App, input: { tokens: string[]; scale: Scale; baseUrl: string; tapsPerSecond: number }) {
  const operator = await app.operators.create({ username: `bench${randomBytes(3).toString('hex')}`, password: 'bench-operator-1', role: 'admin' });
  const prizes = Math.max(10, Math.round(input.scale.taps / 100));
  const poolMinor = BigInt(prizes) * 500n;
  await app.rains.depositBudget(poolMinor, randomBytes(8).toString('hex'), bankAccountId);
  // A window the taps can fill at a rate the server holds (a tap cost about a health check in
  // trial runs; half that rate leaves room); the load is paced over 95% of it, so the taps rain
  // over the whole window and none comes after it.
  const windowSeconds = Math.max(10, Math.ceil(input.scale.taps / (input.tapsPerSecond * 0.5)));
  const rain = await app.rains.schedule(operator.id, { name: 'bench rain', mode: 'line_cut', poolMinor, prizeCount: prizes, startsAt: new Date(Date.now() + 1000), durationMs: windowSeconds * 1000, staggerMs: 1000, perUserWinsMax: 3, perUserMinorMax: poolMinor });
  // Taps start with the rain: a user whose staggered start has not come yet is told when (409).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, rain.starts_at.getTime() - Date.now())));
  const perUser = Math.ceil(input.scale.taps / input.tokens.length);
  // Each user's taps spread through the run: rounds of everyone once, shuffled.
  const load = await runLoad({ baseUrl: input.baseUrl, mode: 'sequence', seconds: 0, connections, pairs: [], pin, runId: 'r', tokens: input.tokens, path: `/v1/rains/${rain.id}/taps`, sequences: grabSequences(input.tokens.length, perUser), paceMs: windowSeconds * 950 });
  const remainingMs = rain.ends_at.getTime() - Date.now();
  if (remainingMs > 0) await new Promise((resolve) => setTimeout(resolve, remainingMs + 200));
  await app.rains.settleNow();
  await app.rains.sweepEnded();
  const stats = await app.rains.stats(rain.id, 10);
  const audit = await app.rains.audit(rain.id);
  const byBucket = new Map(stats.series.map((row) => [row.bucket, row.won_minor]));
  const tenths = Array.from({ length: 10 }, (_, bucket) => Number((Number(byBucket.get(bucket) ?? 0n) / Number(poolMinor)).toFixed(3)));
  return { load, windowSeconds, prizes, poolMinor, wonMinor: stats.totals.won_minor, exceeded: stats.totals.won_minor > poolMinor || !audit.ok, tenths, auditOk: audit.ok };
}

async function makeApp(config: Config, sql: Sql, redisUrl: string | undefined): Promise<{ app: App; baseUrl: string }> {
  const app = await buildApp({ config: { ...config, redisUrl, redisPrefix: `bench${randomBytes(3).toString('hex')}:` }, sql, clock: systemClock, random: cryptoRandom });
  const baseUrl = await app.http.listen({ host: '127.0.0.1', port: 0 });
  return { app, baseUrl };
}

export async function run(args: string[]): Promise<void> {
  const scale = args.includes('--quick') ? quick : full;
  const base = loadConfig();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-bench-rp-'));
  const config: Config = { ...base, dataDir, seedDemo: false, redpacketSharesMax: 100_000 };
  const database = await openBenchDatabase(base, 'bench_redpacket');
  // `--profile` and `--count-sql`: the server's CPU profile and statements over the Redis grab phase.
  const observer = phaseObserver(args);
  const sql = connect({ url: database.url, schema: database.schema, poolSize: 40, ...observer.debug });
  const redisUrl = base.redisUrl ?? 'redis://127.0.0.1:6379';
  const withRedis = await redisReachable(redisUrl);
  // Apps still open when something throws: closed first, or their timers keep the process alive.
  const open = new Set<App>();
  try {
    await migrate(sql);
    const pinKey = await resolvePinKey({ configured: config.pinKey, dataDir, random: cryptoRandom });
    process.stderr.write(`bench redpacket: ${args.includes('--quick') ? 'quick' : 'full'}; ${String(scale.users)} users, ${String(scale.shares)} shares, ${String(scale.taps)} taps; database ${database.label}; Redis ${withRedis ? redisUrl : 'unreachable'}\n`);
    const step = (text: string): void => {
      process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${text}\n`);
    };
    step('setting up users');
    const users = await setUpUsers(sql, { count: scale.users + 1, pinKey, pin });
    step('users ready');
    const [sender, ...grabbers] = users;
    if (sender === undefined) throw new Error('no users');
    // One group holding everyone (set up in bulk: the app's group size limit is for people).
    const groupId = createIdGenerator(systemClock, cryptoRandom).next('grp');
    const now = new Date();
    await sql`INSERT INTO social_groups (id, name, owner_id, member_count, created_by, created_at) VALUES (${groupId}, 'bench', ${sender.id}, ${users.length}, ${sender.id}, ${now})`;
    await sql`INSERT INTO social_group_members (group_id, user_id, joined_at) SELECT ${groupId}, u, ${now} FROM unnest(${users.map((u) => u.id)}::text[]) AS u`;
    const tokens = grabbers.map((u) => u.token);

    step('group ready');
    const first = await makeApp(config, sql, withRedis ? redisUrl : undefined);
    open.add(first.app);
    const fund = await first.app.ledger.transfer({ id: `bench-rp-fund-${randomBytes(4).toString('hex')}`, type: 'posted', debitAccountId: bankAccountId, creditAccountId: sender.wallet, amountMinor: BigInt(scale.shares) * 1000n, currency: 'CNY', kind: 'topup' });
    if (fund.status === 'failed') throw new Error('funding failed');
    // The bulk setup leaves dirty pages and stale statistics: settle them, and warm up, before measuring.
    await sql`VACUUM ANALYZE`;
    await sql`CHECKPOINT`;
    await runLoad({ baseUrl: first.baseUrl, mode: 'healthz', seconds: 2, connections, pairs: [], pin, runId: 'w' });
    step('measuring /healthz');
    const healthz = await runLoad({ baseUrl: first.baseUrl, mode: 'healthz', seconds: scale.healthzSeconds, connections, pairs: [], pin, runId: 'h' });
    step(`healthz ${healthz.rps.toFixed(0)}/s; grabs on Redis`);
    const redisPhase = withRedis ? await grabPhase(first.app, sql, { sender, groupId, tokens, scale, baseUrl: first.baseUrl, step, observer }) : undefined;
    step('the rain');
    const rainTokens = tokens.slice(0, scale.rainUsers);
    const rain = await rainPhase(first.app, { tokens: rainTokens, scale, baseUrl: first.baseUrl, tapsPerSecond: healthz.rps });
    await first.app.close();
    open.delete(first.app);

    step('grabs on PostgreSQL');
    const second = await makeApp(config, sql, undefined);
    open.add(second.app);
    const pgPhase = await grabPhase(second.app, sql, { sender, groupId, tokens, scale, baseUrl: second.baseUrl, step });
    await second.app.close();
    open.delete(second.app);
    const report = await reconcile(sql);

    const row = (cells: string[]): string => cells.map((cell, index) => (index === 0 ? cell.padEnd(14) : cell.padStart(10))).join(' ');
    process.stdout.write(`${row(['phase', 'requests', 'rps', 'p50 ms', 'p99 ms', 'wins', 'dups', 'settle s'])}\n`);
    const line = (name: string, load: LoadResult, wins: string, dups: string, settle: string) => {
      process.stdout.write(`${row([name, String(load.requests), load.rps.toFixed(0), load.p50.toFixed(2), load.p99.toFixed(2), wins, dups, settle])}\n`);
    };
    line('healthz', healthz, '', '', '');
    if (redisPhase !== undefined) line('grab redis', redisPhase.load, String(redisPhase.wins), String(redisPhase.load.duplicates ?? 0), redisPhase.settleSeconds.toFixed(2));
    line('grab pg', pgPhase.load, String(pgPhase.wins), String(pgPhase.load.duplicates ?? 0), pgPhase.settleSeconds.toFixed(2));
    line('rain taps', rain.load, String(rain.load.wins ?? 0), '', '');
    process.stdout.write(`statuses: redis ${JSON.stringify(redisPhase?.load.statuses ?? {})}, pg ${JSON.stringify(pgPhase.load.statuses)}, rain ${JSON.stringify(rain.load.statuses)}\n`);
    process.stdout.write(`rain: ${String(rain.prizes)} prizes, pool ${String(rain.poolMinor)} fen over ${String(rain.windowSeconds)} s, won ${String(rain.wonMinor)}; audits redis ${String(redisPhase?.auditOk)} pg ${String(pgPhase.auditOk)} rain ${String(rain.auditOk)}; reconciled ${String(report.ok)}\n`);
    const summary = {
      bench: 'redpacket',
      healthz_rps: Math.round(healthz.rps),
      grab_rps_redis: redisPhase === undefined ? null : Math.round(redisPhase.load.rps),
      grab_rps_pg: Math.round(pgPhase.load.rps),
      ratio_redis: redisPhase === undefined ? null : Number((redisPhase.load.rps / healthz.rps).toFixed(3)),
      ratio_pg: Number((pgPhase.load.rps / healthz.rps).toFixed(3)),
      wins: redisPhase?.wins ?? pgPhase.wins,
      wins_pg: pgPhase.wins,
      duplicates: (redisPhase?.load.duplicates ?? 0) + (pgPhase.load.duplicates ?? 0),
      sum_ok: (redisPhase?.sumOk ?? true) && pgPhase.sumOk,
      settle_s: Number(Math.max(redisPhase?.settleSeconds ?? 0, pgPhase.settleSeconds).toFixed(2)),
      settle_s_redis: redisPhase === undefined ? null : Number(redisPhase.settleSeconds.toFixed(2)),
      errors: errorCount(healthz) + (redisPhase === undefined ? 0 : errorCount(redisPhase.load) - (redisPhase.load.statuses['409'] ?? 0)) + errorCount(pgPhase.load) - (pgPhase.load.statuses['409'] ?? 0) + errorCount(rain.load) - (rain.load.statuses['409'] ?? 0),
      rain_pool_exceeded: rain.exceeded,
      rain_tenths: rain.tenths,
      reconciled: report.ok,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (!report.ok || summary.duplicates > 0 || !summary.sum_ok || rain.exceeded) process.exitCode = 1;
  } finally {
    for (const app of open) await app.close();
    await sql.end();
    await database.close(args.includes('--keep'));
    await rm(dataDir, { recursive: true, force: true });
  }
}
