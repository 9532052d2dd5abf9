/**
 * Goal: a live campaign at checkout, end to end — the offer shown before the PIN, the discount
 * paid from the campaign's budget account in the same linked group as the payment (the shop gets
 * the whole price), the discount on both bills, per-user limits, deny-by-default scenes, replays
 * paying once, the kill switch, a budget spent to the last fen and never beyond, vouchers used
 * once, the incident report, and ending a campaign returning what is left to its fund.
 * Method: the whole app on a test schema and a fake clock, through app.inject(); campaigns are
 * taken live by two operators through the services (liveCampaign).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { liveCampaign, operatorToken, saneDefinition } from '../../src/marketing/testing.ts';
import { fundAccounts } from '../../src/marketing/funds.ts';
import { balanceMinor, expectProblem, fundedUser, newUser, send, type BillJsonForTest } from '../../src/payments/testing.ts';
import { asUser, closeReconciled, createTestApp, testPin, type TestApp, type TestUser } from '../../src/testing/app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => closeReconciled(t));

interface Offer {
  offerId: string;
  campaignId: string;
  label: string;
  labelText: { zh: string; en: string };
  offMinor: string;
  random: boolean;
  payMinor: string;
}
type Bill = BillJsonForTest & { discount: { campaignId: string; label: string; amountMinor: string; grossMinor: string } | null };

async function shopOf(owner: TestUser): Promise<{ receiveCode: string; accountId: string }> {
  const response = await asUser(t.app, owner, 'POST', '/v1/shops', { name: `店${owner.mobile.slice(-4)}` });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}

async function quote(user: TestUser, code: string, amountMinor: number): Promise<Offer | null> {
  const response = await asUser(t.app, user, 'GET', `/v1/pay-targets/${encodeURIComponent(code)}?amountMinor=${String(amountMinor)}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ offer: Offer | null }>().offer;
}

function pay(user: TestUser, code: string, amountMinor: number, extra: Record<string, unknown> = {}, key?: string) {
  return asUser(t.app, user, 'POST', '/v1/shop-payments', { code, amountMinor: String(amountMinor), pin: testPin, ...extra }, key === undefined ? {} : { 'idempotency-key': key });
}

async function payer(amountMinor = 100_000n): Promise<TestUser> {
  const user = await newUser(t.app);
  await fundedUser(t.app, user, amountMinor);
  return user;
}

test('the offer is shown before the PIN, paid from the budget in the same group; the shop gets the whole price', async () => {
  const campaign = await liveCampaign(t.app, saneDefinition);
  const owner = await newUser(t.app);
  const shop = await shopOf(owner);
  const alice = await payer();
  const budgetBefore = await balanceMinor(t.app, campaign.budget_account_id ?? '');
  assert.equal(budgetBefore, 200_000n);

  // Under the minimum spend (¥20) there is nothing to show.
  assert.equal(await quote(alice, shop.receiveCode, 1999), null);
  const offer = await quote(alice, shop.receiveCode, 3000);
  assert.deepEqual(offer, { offerId: campaign.id, campaignId: campaign.id, label: 'platform_discount', labelText: { zh: '平台优惠', en: 'Platform discount' }, offMinor: '500', random: false, payMinor: '2500' });

  const key = 'checkout-1';
  const paid = await pay(alice, shop.receiveCode, 3000, { offerId: offer?.offerId }, key);
  assert.equal(paid.statusCode, 201, paid.body);
  const bill = paid.json<Bill>();
  assert.equal(bill.amountMinor, '2500');
  assert.deepEqual(bill.discount, { campaignId: campaign.id, label: 'platform_discount', amountMinor: '500', grossMinor: '3000' });
  assert.equal(await balanceMinor(t.app, alice.walletAccountId), 100_000n - 2500n);
  assert.equal(await balanceMinor(t.app, shop.accountId), 3000n);
  assert.equal(await balanceMinor(t.app, campaign.budget_account_id ?? ''), budgetBefore - 500n);
  // The owner's bill is the whole price, with the discount named.
  const ownerBill = (await asUser(t.app, owner, 'GET', `/v1/bills/${bill.id}`)).json<Bill>();
  assert.equal(ownerBill.amountMinor, '3000');
  assert.equal(ownerBill.discount?.amountMinor, '500');

  // A replay of the request pays nothing more and takes nothing more from the budget.
  const replay = await pay(alice, shop.receiveCode, 3000, { offerId: offer?.offerId }, key);
  assert.equal(replay.json<Bill>().id, bill.id);
  assert.equal(await balanceMinor(t.app, campaign.budget_account_id ?? ''), budgetBefore - 500n);

  // One discount a day per user: the next payment today shows no offer, and naming the old one is
  // refused with nothing paid.
  assert.equal(await quote(alice, shop.receiveCode, 3000), null);
  expectProblem(await pay(alice, shop.receiveCode, 3000, { offerId: campaign.id }), 409, 'marketing.offer_changed');
  assert.equal(await balanceMinor(t.app, alice.walletAccountId), 100_000n - 2500n);
  const plain = await pay(alice, shop.receiveCode, 3000);
  assert.equal(plain.statusCode, 201, plain.body);
  assert.equal(plain.json<Bill>().discount, null);
  assert.equal(plain.json<Bill>().amountMinor, '3000');

  // Tomorrow (Asia/Shanghai) the daily limit has room again.
  t.clock.advance(86_400_000);
  await t.app.engine.refresh();
  assert.equal((await quote(alice, shop.receiveCode, 3000))?.offMinor, '500');
});

test('deny by default: a shop campaign never discounts a transfer or a top-up', async () => {
  await liveCampaign(t.app, saneDefinition);
  const alice = await payer();
  const bob = await newUser(t.app);
  const transfer = await send(t.app, alice, { toUserId: bob.id, amountMinor: '5000' });
  assert.equal(transfer.statusCode, 201, transfer.body);
  assert.equal(transfer.json<Bill>().discount, null);
  assert.equal(transfer.json<Bill>().amountMinor, '5000');
  const rows = await t.db.sql<{ n: bigint }[]>`SELECT count(*)::int8 AS n FROM payments WHERE campaign_id IS NOT NULL AND kind IN ('p2p', 'topup')`;
  assert.equal(rows[0]?.n, 0n);
});

test('the kill switch stops every discount at once, and releasing it brings them back', async () => {
  await liveCampaign(t.app, saneDefinition);
  const shop = await shopOf(await newUser(t.app));
  const alice = await payer();
  assert.notEqual(await quote(alice, shop.receiveCode, 3000), null);
  const operator = await t.app.operators.create({ username: 'killer', password: 'operator-pass-1', role: 'operator' });
  await t.app.campaigns.setKillSwitch(operator.id, true, 'drill');
  await t.app.engine.refresh();
  assert.equal(await quote(alice, shop.receiveCode, 3000), null);
  const paid = await pay(alice, shop.receiveCode, 3000);
  assert.equal(paid.json<Bill>().discount, null);
  await t.app.campaigns.setKillSwitch(operator.id, false, 'drill over');
  await t.app.engine.refresh();
  assert.notEqual(await quote(alice, shop.receiveCode, 3000), null);
});

test('a budget is spent to the last fen and never beyond; the report and ending settle it', async () => {
  // Every other campaign ends first, so this one is the only offer.
  for (const row of await t.app.campaigns.list()) if (row.status === 'active') await t.app.marketing.end('op', row.id).catch(() => undefined);
  const campaign = await liveCampaign(t.app, { ...saneDefinition, name: '小预算', budget: { funding: 'platform', amountMinor: '1200' } });
  const shop = await shopOf(await newUser(t.app));
  const discounts: string[] = [];
  for (let i = 0; i < 4; i += 1) {
    const paid = await pay(await payer(), shop.receiveCode, 3000);
    assert.equal(paid.statusCode, 201, paid.body);
    discounts.push(paid.json<Bill>().discount?.amountMinor ?? '0');
  }
  // 500 + 500, then the last 200 fen, then nothing: spent = budget.
  assert.deepEqual(discounts, ['500', '500', '200', '0']);
  assert.equal(await balanceMinor(t.app, campaign.budget_account_id ?? ''), 0n);
  const report = await asUser(t.app, null, 'GET', `/v1/admin/campaigns/${campaign.id}/report`, undefined, { authorization: `Bearer ${await operatorToken(t.app)}` });
  assert.equal(report.statusCode, 200, report.body);
  const body = report.json<{ totalMinor: string; count: number; byScene: { scene: string; minor: string }[]; payments: unknown[] }>();
  assert.equal(body.totalMinor, '1200');
  assert.equal(body.count, 3);
  assert.deepEqual(body.byScene.map((s) => [s.scene, s.minor]), [['shop_qr', '1200']]);
  const ended = await t.app.marketing.end('op', campaign.id);
  assert.equal(ended.returnedMinor, 0n);
});

test('a discount decided on a stale budget is decided again on what is left, not dropped', async () => {
  for (const row of await t.app.campaigns.list()) if (row.status === 'active') await t.app.marketing.end('op', row.id).catch(() => undefined);
  const campaign = await liveCampaign(t.app, { ...saneDefinition, name: '旧预算', budget: { funding: 'platform', amountMinor: '1200' } });
  const budget = campaign.budget_account_id ?? '';
  const shop = await shopOf(await newUser(t.app));
  const [first, second] = [await payer(), await payer()];
  // The engine has read 1,200 left; 1,000 of it leaves behind its back, as a refresh that read the
  // balance before other discounts landed would leave it believing. (Its timer is stopped, so only
  // the refusal makes it read again.)
  t.app.engine.close();
  await t.app.engine.refresh();
  const moved = await t.app.ledger.transfer({ id: `drain-${campaign.id}`, type: 'posted', debitAccountId: budget, creditAccountId: fundAccounts.platform.id, amountMinor: 1000n, currency: 'CNY', kind: 'test' });
  assert.equal(moved.status, 'created');
  // It offers 500, the ledger refuses the leg, the budgets are read again: 200 off, all there is.
  const paid = await pay(first, shop.receiveCode, 3000);
  assert.equal(paid.statusCode, 201, paid.body);
  assert.equal(paid.json<Bill>().discount?.amountMinor, '200');
  assert.equal(await balanceMinor(t.app, budget), 0n);
  // Nothing is left: the next payment pays the full price.
  const next = await pay(second, shop.receiveCode, 3000);
  assert.equal(next.statusCode, 201, next.body);
  assert.equal(next.json<Bill>().discount, null);
  t.app.engine.start();
  await t.app.marketing.end('op', campaign.id);
});

test('ending a campaign returns what is left to its fund, once', async () => {
  const campaign = await liveCampaign(t.app, { ...saneDefinition, name: '退回', budget: { funding: 'platform', amountMinor: '7000' } });
  const fundBefore = await balanceMinor(t.app, fundAccounts.platform.id);
  const first = await t.app.marketing.end('op', campaign.id);
  const again = await t.app.marketing.end('op', campaign.id);
  assert.equal(first.returnedMinor, 7000n);
  assert.equal(again.returnedMinor, 7000n);
  assert.equal(await balanceMinor(t.app, fundAccounts.platform.id), fundBefore + 7000n);
  assert.equal(await balanceMinor(t.app, campaign.budget_account_id ?? ''), 0n);
});

test('vouchers: issued to a user, shown and used once at checkout', async () => {
  for (const row of await t.app.campaigns.list()) if (row.status === 'active') await t.app.marketing.end('op', row.id).catch(() => undefined);
  const campaign = await liveCampaign(t.app, { ...saneDefinition, name: '满30减8券', template: { kind: 'voucher', amountMinor: '800', minSpendMinor: '3000', validDays: 7 }, perUser: { countPerDay: 1, minorPerDay: '800', countPerCampaign: 1, minorPerCampaign: '800' } });
  const shop = await shopOf(await newUser(t.app));
  const alice = await payer();
  const bob = await payer();
  const issued = await t.app.marketing.issueVouchers(campaign.id, [alice.id, alice.id], 'batch-1');
  assert.equal(issued.issued, 1);
  assert.equal((await t.app.marketing.issueVouchers(campaign.id, [alice.id], 'batch-1')).issued, 0);
  const mine = (await asUser(t.app, alice, 'GET', '/v1/vouchers')).json<{ vouchers: { id: string; status: string }[] }>().vouchers;
  assert.equal(mine.length, 1);
  assert.equal(await quote(bob, shop.receiveCode, 3000), null);
  const offer = await quote(alice, shop.receiveCode, 3000);
  assert.equal(offer?.offerId, mine[0]?.id);
  assert.equal(offer?.offMinor, '800');
  const paid = await pay(alice, shop.receiveCode, 3000, { offerId: offer?.offerId });
  assert.equal(paid.json<Bill>().amountMinor, '2200');
  const after = (await asUser(t.app, alice, 'GET', '/v1/vouchers')).json<{ vouchers: { status: string }[] }>().vouchers;
  assert.deepEqual(after.map((v) => v.status), ['used']);
  assert.equal(await quote(alice, shop.receiveCode, 3000), null);
});

test('payment code: a small charge is discounted at once; one awaiting the PIN shows its offer first', async () => {
  for (const row of await t.app.campaigns.list()) if (row.status === 'active') await t.app.marketing.end('op', row.id).catch(() => undefined);
  const campaign = await liveCampaign(t.app, { ...saneDefinition, name: '付款码立减', scenes: [{ scene: 'payment_code' }], perUser: { countPerDay: 5, minorPerDay: '2500', countPerCampaign: 5, minorPerCampaign: '2500' } });
  const owner = await newUser(t.app);
  await shopOf(owner);
  const alice = await payer();
  const code = async () => (await asUser(t.app, alice, 'POST', '/v1/me/pay-code')).json<{ code: string }>().code;
  // Under the no-PIN amount (¥200): paid at once, discounted.
  const small = await asUser(t.app, owner, 'POST', '/v1/shops/mine/charges', { payCode: await code(), amountMinor: '3000' });
  assert.equal(small.json<{ status: string }>().status, 'paid', small.body);
  const smallBill = (await asUser(t.app, alice, 'GET', `/v1/bills/${small.json<{ paymentId: string }>().paymentId}`)).json<Bill>();
  assert.deepEqual([smallBill.amountMinor, smallBill.discount?.amountMinor, smallBill.discount?.campaignId], ['2500', '500', campaign.id]);
  // Over it: the payer sees the charge and its offer before the PIN, then confirms.
  const big = await asUser(t.app, owner, 'POST', '/v1/shops/mine/charges', { payCode: await code(), amountMinor: '30000' });
  assert.equal(big.json<{ status: string }>().status, 'awaiting_pin', big.body);
  const waiting = (await asUser(t.app, alice, 'GET', '/v1/me/code-charges')).json<{ charges: { id: string; offer: Offer | null }[] }>().charges;
  assert.equal(waiting[0]?.offer?.offMinor, '500');
  assert.equal(waiting[0]?.offer?.payMinor, '29500');
  const confirmed = await asUser(t.app, alice, 'POST', `/v1/me/code-charges/${waiting[0]?.id ?? ''}/confirm`, { pin: testPin });
  assert.equal(confirmed.statusCode, 201, confirmed.body);
  assert.equal(confirmed.json<Bill>().discount?.amountMinor, '500');
  const scenes = await t.db.sql<{ scene: string }[]>`SELECT scene FROM payments WHERE campaign_id = ${campaign.id} ORDER BY created_at`;
  assert.deepEqual(scenes.map((s) => s.scene), ['payment_code', 'payment_code']);
});

test('a refund gives the campaign back its share of the discount, in proportion; the whole refund returns it all', async () => {
  for (const row of await t.app.campaigns.list()) if (row.status === 'active') await t.app.marketing.end('op', row.id).catch(() => undefined);
  const campaign = await liveCampaign(t.app, { ...saneDefinition, name: '退款返还' });
  const owner = await newUser(t.app);
  const shop = await shopOf(owner);
  const alice = await payer();
  const budget = campaign.budget_account_id ?? '';
  const paid = (await pay(alice, shop.receiveCode, 3000)).json<Bill>();
  assert.deepEqual([paid.amountMinor, paid.discount?.amountMinor], ['2500', '500']);
  assert.equal(await balanceMinor(t.app, budget), 200_000n - 500n);
  // ¥10 of the ¥25 paid back: the campaign gets 500 × 10/25 = 200 fen back from the shop.
  const first = await asUser(t.app, owner, 'POST', `/v1/shop-payments/${paid.id}/refunds`, { amountMinor: '1000' });
  assert.equal(first.statusCode, 201, first.body);
  assert.equal(first.json<Bill>().discount, null);
  assert.equal(await balanceMinor(t.app, budget), 200_000n - 300n);
  assert.equal(await balanceMinor(t.app, shop.accountId), 3000n - 1000n - 200n);
  // The rest: the whole discount is back; the shop keeps nothing of the sale.
  assert.equal((await asUser(t.app, owner, 'POST', `/v1/shop-payments/${paid.id}/refunds`, { amountMinor: '1500' })).statusCode, 201);
  assert.equal(await balanceMinor(t.app, budget), 200_000n);
  assert.equal(await balanceMinor(t.app, shop.accountId), 0n);
  assert.equal(await balanceMinor(t.app, alice.walletAccountId), 100_000n);
  const report = (await t.app.marketing.report(campaign.id));
  assert.equal(report.totalMinor, 0n);
});
