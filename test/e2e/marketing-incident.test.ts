/**
 * Goal: the incident of 16 January 2025, replayed. The template (20% off, every scene, no cap,
 * "government subsidy" on an ordinary budget) is refused at save. Forced through every override
 * the engine allows — a cap, a subsidy budget behind the subsidy label, a written grant for
 * top-ups but none for transfers or card repayments — on a 1% stage with a modest budget, under
 * mixed traffic: the burn-rate breaker pauses it within 5 s, total spend stays within the budget,
 * and no transfer is discounted (it was never granted).
 * Method: the whole app on a test schema with the breaker on its one-second loop; 24 users (8 on
 * the test list) paying shops, transferring and topping up concurrently over HTTP.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { DomainError } from '../../src/kernel/errors.ts';
import { incidentDefinition, liveCampaign, operatorToken } from '../../src/marketing/testing.ts';
import { fundedUser, newUser, verifyRealName } from '../../src/payments/testing.ts';
import { asUser, closeReconciled, createTestApp, testPin, type TestApp, type TestUser } from '../../src/testing/app.ts';

let t: TestApp;
before(async () => {
  // The traffic is many payments a minute per user: the PIN routes' rate limit is not under test.
  t = await createTestApp({ QIANBAO_PIN_RATE_PER_MIN: '100000' });
});
after(() => closeReconciled(t));

test('the incident template is refused, and forced through every override it is paused by the breaker within 5 s, within budget', async (context) => {
  // Refused at save, naming each mistake.
  const refused = await t.app.campaigns.create('op', incidentDefinition).catch((error: unknown) => error);
  assert.ok(refused instanceof DomainError && refused.code === 'marketing.invalid');
  const fields = (refused.extra['problems'] as { field: string }[]).map((p) => p.field);
  for (const field of ['template.capMinor', 'label', 'scenes.p2p_transfer', 'scenes.card_repayment', 'scenes.topup']) assert.ok(fields.includes(field), `${field} in ${fields.join()}`);

  const owner = await newUser(t.app);
  const shop = (await asUser(t.app, owner, 'POST', '/v1/shops', { name: '便利店' })).json<{ receiveCode: string }>();
  const users: TestUser[] = [];
  const cards = new Map<string, string>();
  for (let i = 0; i < 24; i += 1) {
    const user = await newUser(t.app);
    cards.set(user.id, (await fundedUser(t.app, user, 500_000n)).cardId);
    await verifyRealName(t.app, user);
    users.push(user);
  }
  const staff = users.slice(0, 8).map((u) => u.id);

  // Forced through: a cap, a subsidy budget for the subsidy label, top-ups granted in writing;
  // transfers and card repayments cannot be granted without a reason, so they are dropped.
  const budgetMinor = 50_000n;
  const forced = {
    ...incidentDefinition,
    name: 'forced',
    template: { kind: 'percent' as const, basisPoints: 2000, capMinor: '2000' },
    scenes: [{ scene: 'shop_qr' }, { scene: 'payment_code' }, { scene: 'topup', reason: 'spring top-up promotion, approved by finance' }],
    perUser: { countPerDay: 50, minorPerDay: '50000', countPerCampaign: 50, minorPerCampaign: '50000' },
    budget: { funding: 'subsidy' as const, amountMinor: budgetMinor.toString() },
    testUserIds: staff,
  };
  // The dry run saw modest shop traffic only: 30 payments of ¥50 over an hour.
  const sample = { minutes: 60, payments: Array.from({ length: 30 }, (_, i) => ({ scene: 'shop_qr' as const, userId: users[i % users.length]?.id ?? '', amountMinor: 5000n })) };
  const campaign = await liveCampaign(t.app, forced, { stage: 'pct1', sample });
  assert.equal(campaign.stage, 'pct1');

  // Mixed traffic until well after the breaker should have acted.
  let firstDiscountAt: number | undefined;
  let pausedAt: number | undefined;
  let stop = false;
  let n = 0;
  const worker = async (): Promise<void> => {
    while (!stop) {
      n += 1;
      const user = users[n % users.length] as TestUser;
      const other = users[(n + 7) % users.length] as TestUser;
      const amount = String(3000 + (n % 17) * 700);
      const kind = n % 3;
      const response =
        kind === 0
          ? await asUser(t.app, user, 'POST', '/v1/shop-payments', { code: shop.receiveCode, amountMinor: amount, pin: testPin })
          : kind === 1
            ? await asUser(t.app, user, 'POST', '/v1/transfers', { toUserId: other.id, amountMinor: amount, pin: testPin })
            : await asUser(t.app, user, 'POST', '/v1/topups', { cardId: cards.get(user.id), amountMinor: amount, pin: testPin });
      assert.equal(response.statusCode, 201, response.body);
      if (firstDiscountAt === undefined && response.json<{ discount: unknown }>().discount !== null) firstDiscountAt = performance.now();
    }
  };
  const watcher = async (): Promise<void> => {
    while (pausedAt === undefined && performance.now() - started < 20_000) {
      if ((await t.app.campaigns.get(campaign.id)).status === 'paused') pausedAt = performance.now();
      else await sleep(50);
    }
    await sleep(1000);
    stop = true;
  };
  const started = performance.now();
  await Promise.all([watcher(), ...Array.from({ length: 6 }, worker)]);

  assert.ok(firstDiscountAt !== undefined, 'the campaign discounted something');
  assert.ok(pausedAt !== undefined, 'the breaker paused the campaign');
  assert.ok(pausedAt - firstDiscountAt <= 5000, `paused ${String(Math.round(pausedAt - firstDiscountAt))} ms after the first discount`);
  const row = await t.app.campaigns.get(campaign.id);
  assert.match(row.paused_reason ?? '', /^breaker: /);
  context.diagnostic(`paused ${String(Math.round(pausedAt - firstDiscountAt))} ms after the first discount: ${row.paused_reason ?? ''}`);

  // Spend within the budget, nothing after the pause, no transfer ever discounted.
  const [spent] = await t.db.sql<{ total: bigint; transfers: bigint; after: bigint }[]>`
    SELECT coalesce(sum(discount_minor), 0)::int8 AS total,
      count(*) FILTER (WHERE kind = 'p2p')::int8 AS transfers,
      count(*) FILTER (WHERE created_at > ${row.paused_at})::int8 AS after
    FROM payments WHERE campaign_id = ${campaign.id} AND status = 'succeeded'`;
  assert.ok(spent !== undefined && spent.total > 0n && spent.total <= budgetMinor, `spent ${String(spent?.total)}`);
  assert.equal(spent.transfers, 0n);
  // Only users on the test list or in the 1% bucket were touched.
  const touched = await t.db.sql<{ user_id: string }[]>`SELECT DISTINCT user_id FROM payments WHERE campaign_id = ${campaign.id}`;
  for (const { user_id: userId } of touched) assert.ok(staff.includes(userId) || (await import('../../src/marketing/model.ts')).rolloutBucket(campaign.id, userId) < 100);

  // The console shows why, and the incident report adds up.
  const token = await operatorToken(t.app);
  const events = (await asUser(t.app, { token }, 'GET', `/v1/admin/marketing/events?campaignId=${campaign.id}`)).json<{ events: { kind: string; detail: { reason: string } }[] }>().events;
  assert.equal(events[0]?.kind, 'breaker');
  const report = (await asUser(t.app, { token }, 'GET', `/v1/admin/campaigns/${campaign.id}/report`)).json<{ totalMinor: string; byScene: { scene: string }[] }>();
  assert.equal(report.totalMinor, spent.total.toString());
  assert.ok(report.byScene.every((s) => s.scene !== 'p2p_transfer'));
});
