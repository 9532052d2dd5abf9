/**
 * `npm run bench -- marketing [--quick]`: 64 keep-alive connections of HTTP checkouts at one shop
 * (¥30 each, PIN, Idempotency-Key) while a live campaign (¥5 off from ¥20, every user, up to 5 a
 * day each) spends its budget, which runs out mid-run; and in the same run `GET /healthz` on the
 * same server as the yardstick. The campaign goes live the way operators take it: saved, dry-run
 * on a stated sample of the expected rush, approved by a second operator after a fund deposit,
 * rolled out to 100%. Afterwards: what the campaign spent (from the payments and from the ledger),
 * the in-process decision p99 (MarketingEngine.decisionP99Ms), and the ledger reconciled.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { connect, migrate } from '../src/kernel/db.ts';
import { cryptoRandom } from '../src/kernel/random.ts';
import { resolvePinKey } from '../src/identity/pin-key.ts';
import { reconcile } from '../src/ledger/index.ts';
import { saneDefinition } from '../src/marketing/testing.ts';
import { depositFund } from '../src/marketing/funds.ts';
import { bankAccountId } from '../src/payments/index.ts';
import { openBenchDatabase } from './database.ts';
import { alternateRounds, errorCount, phaseObserver, runLoad, setUpUsers } from './http-common.ts';

const connections = 64;
const payersPerConnection = 64;
const pin = '802413';
const priceMinor = 3000n;

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  // The phases alternate in rounds (a drifting VM moves both alike): rates are the run's totals.
  const rounds = quick ? 2 : 4;
  const seconds = quick ? 4 : 5;
  // Runs out after about 1,000 (quick) or 3,000 discounts of ¥5; the odd fen makes the last one partial.
  const budgetMinor = quick ? 500_001n : 1_500_001n;
  const base = loadConfig();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-bench-marketing-'));
  const config = { ...base, dataDir, seedDemo: false };
  const database = await openBenchDatabase(base, 'bench_marketing');
  // `--profile` and `--count-sql`: the server's CPU profile and statements over the checkout phase.
  const observer = phaseObserver(args);
  const sql = connect({ url: database.url, schema: database.schema, poolSize: 40, ...observer.debug });
  try {
    await migrate(sql);
    const app = await buildApp({ config, sql, clock: systemClock, random: cryptoRandom });
    const pinKey = await resolvePinKey({ configured: config.pinKey, dataDir, random: cryptoRandom });
    const payerCount = connections * payersPerConnection;
    const users = await setUpUsers(sql, { count: payerCount + 1, pinKey, pin });
    const funded = await Promise.all(users.slice(0, payerCount).map((user, index) => app.ledger.transfer({ id: `bench-fund-${String(index)}`, type: 'posted', debitAccountId: bankAccountId, creditAccountId: user.wallet, amountMinor: 100_000_000n, currency: 'CNY', kind: 'topup' })));
    if (funded.some((result) => result.status === 'failed')) throw new Error('funding failed');
    const ownerId = users[payerCount]?.id ?? '';
    const owner = await app.identity.getUser(ownerId);
    if (owner === undefined) throw new Error('no shop owner');
    const shop = await app.shops.openShop(owner, { name: '压测便利店' });

    const baseUrl = await app.http.listen({ host: '127.0.0.1', port: 0 });
    process.stderr.write(`bench marketing: ${quick ? 'quick' : 'full'}, ${String(rounds)} rounds of ${String(seconds)} s per phase, ${String(connections)} connections, budget ${budgetMinor.toString()} fen, database ${database.label}\n`);
    const pairs = Array.from({ length: connections }, (_, connection) => ({ tokens: users.slice(connection * payersPerConnection, (connection + 1) * payersPerConnection).map((user) => user.token), toUserId: '' }));
    // Each load warms up unmeasured first, so that both phases measure code the JIT has compiled
    // and statements every pooled connection has prepared: the health checks in their own load
    // generator process (warmSeconds), the checkouts in a run of their own before the campaign
    // goes live, at full price, so that its whole budget is spent in the measured phase.
    const warmSeconds = quick ? 2 : 3;
    // Longer for the checkouts: the server's payment path compiles for seconds (as in http-transfer).
    const checkoutWarmUp = await runLoad({ baseUrl, mode: 'checkout', seconds: quick ? 4 : 5, connections, pairs, pin, runId: randomBytes(4).toString('hex'), code: shop.receiveCode, amountMinor: priceMinor.toString() });

    // The campaign, taken live as two operators would.
    const author = await app.operators.create({ username: 'bench-author', password: 'operator-pass-1', role: 'operator' });
    const approver = await app.operators.create({ username: 'bench-approver', password: 'operator-pass-1', role: 'operator' });
    const now = Date.now();
    const campaign = await app.campaigns.create(author.id, {
      ...saneDefinition,
      name: '压测立减',
      perUser: { countPerDay: 5, minorPerDay: '2500', countPerCampaign: 5, minorPerCampaign: '2500' },
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 86_400_000).toISOString(),
      budget: { funding: 'platform', amountMinor: budgetMinor.toString() },
    });
    // The dry run is told the rush to expect: every payer paying once a minute.
    await app.marketing.dryRun(campaign.id, { minutes: 1, payments: users.slice(0, payerCount).map((u) => ({ scene: 'shop_qr', userId: u.id, amountMinor: priceMinor })) });
    await app.campaigns.submit(campaign.id);
    await depositFund(app.ledger, { kind: 'platform', amountMinor: budgetMinor, requestKey: `bench-${campaign.id}`, fromAccountId: bankAccountId });
    await app.campaigns.approve(approver.id, campaign.id, budgetMinor);
    for (let stage = 0; stage < 3; stage += 1) await app.marketing.promote(approver.id, campaign.id);
    const live = await app.campaigns.get(campaign.id);
    await app.engine.refresh();

    const measuredFrom = new Date();
    // Later rounds warm up only their new load generator process (the server is warm); the first
    // checkout round needs none (the warm-up run above), and is where the budget runs out.
    const { healthz, payments: checkout } = await alternateRounds(
      rounds,
      (round) => runLoad({ keepLatencies: true, baseUrl, mode: 'healthz', seconds, warmSeconds: round === 0 ? warmSeconds : 1, connections, pairs: [], pin, runId: 'h' }),
      (round, onWarm) => runLoad({ keepLatencies: true, baseUrl, mode: 'checkout', seconds, ...(round === 0 ? {} : { warmSeconds: 1 }), connections, pairs, pin, runId: randomBytes(4).toString('hex'), code: shop.receiveCode, amountMinor: priceMinor.toString() }, undefined, [], onWarm),
      (load) => observer.phase('checkout', load),
    );
    const decisionP99Ms = app.engine.decisionP99Ms();
    const row = (await app.campaigns.get(campaign.id));
    await app.close();

    const [spend] = await sql<{ spent: bigint; discounted: bigint; full: bigint }[]>`
      SELECT coalesce(sum(discount_minor), 0)::int8 AS spent, count(discount_minor)::int8 AS discounted, (count(*) - count(discount_minor))::int8 AS full
      FROM payments WHERE kind = 'shop' AND status = 'succeeded' AND created_at >= ${measuredFrom}`;
    const account = await app.ledger.getAccount(live.budget_account_id ?? '');
    const report = await reconcile(sql);
    const spent = spend?.spent ?? 0n;
    const fmt = (cells: string[]): string => cells.map((cell, index) => (index === 0 ? cell.padEnd(10) : cell.padStart(10))).join(' ');
    process.stdout.write(`${fmt(['phase', 'requests', 'rps', 'p50 ms', 'p99 ms', 'errors'])}\n`);
    for (const [name, result] of [['healthz', healthz], ['checkout', checkout]] as const) process.stdout.write(`${fmt([name, String(result.requests), result.rps.toFixed(0), result.p50.toFixed(2), result.p99.toFixed(2), String(errorCount(result))])}\n`);
    process.stdout.write(`campaign: status ${row.status}${row.paused_reason === null ? '' : ` (${row.paused_reason})`}; ${String(spend?.discounted)} checkouts discounted, ${String(spend?.full)} at full price; spent ${spent.toString()} of ${budgetMinor.toString()} fen (ledger: budget account holds ${String(account?.balanceMinor)}); decision p99 ${decisionP99Ms.toFixed(4)} ms\n`);
    process.stdout.write(`statuses: healthz ${JSON.stringify(healthz.statuses)}, checkout ${JSON.stringify(checkout.statuses)}; reconciled: ${String(report.ok)}\n`);
    const summary = {
      bench: 'marketing',
      healthz_rps: Math.round(healthz.rps),
      checkout_rps: Math.round(checkout.rps),
      ratio: Number((checkout.rps / healthz.rps).toFixed(3)),
      decision_p99_ms: Number(decisionP99Ms.toFixed(4)),
      budget: Number(budgetMinor),
      spent: Number(spent),
      overspend: Number(spent > budgetMinor ? spent - budgetMinor : 0n),
      errors: errorCount(checkout) + errorCount(healthz) + errorCount(checkoutWarmUp),
      reconciled: report.ok,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (!report.ok || summary.errors > 0 || summary.overspend > 0 || account?.balanceMinor !== budgetMinor - spent) process.exitCode = 1;
  } finally {
    await sql.end();
    await database.close(args.includes('--keep'));
    await rm(dataDir, { recursive: true, force: true });
  }
}
