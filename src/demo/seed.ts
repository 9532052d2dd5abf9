import type { App } from '../app.ts';
import type { Sql } from '../kernel/db.ts';
import { formatMinor } from '../kernel/money.ts';
import type { Random } from '../kernel/random.ts';
import { demoPartnerName } from '../credit/partner-routes.ts';
import { depositFund } from '../marketing/funds.ts';
import { bankAccountId } from '../payments/index.ts';

/**
 * Demo data for a newcomer: on an empty database `npm start` creates two users with balances and
 * a few bills between them, a shop (Bob's) that Alice has paid and been partly refunded by, and an
 * operator for /admin, then prints how to log in. Everything goes
 * through the real services (sign-up, PIN, card, top-up, transfer), so the ledger is as real as
 * any user's. Runs only when there are no users, so it never touches a database in use.
 */
export const demoPassword = 'demo-pass-1';
export const demoPin = '802413';
export const demoPacketMinor = 666n;
export const demoBudgetMinor = 1_000_000n;
export const demoCampaignBudgetMinor = 200_000n;
const demoShopName = '小红面馆 Bob\'s Noodles';
const demoShopPaymentMinor = 3_200n;
const demoShopRefundMinor = 500n;

export interface DemoSeed {
  readonly users: { readonly name: string; readonly mobile: string }[];
  readonly operator: { readonly username: string; readonly password: string };
}

export async function seedDemoIfEmpty(app: App, sql: Sql, random: Random): Promise<DemoSeed | undefined> {
  const [row] = await sql<{ n: bigint }[]>`SELECT count(*)::int8 AS n FROM identity_users`;
  if (row === undefined || row.n > 0n) return undefined;
  const people = [
    { name: '小明 Alice', mobile: '13800000001', topUpMinor: 100_000n },
    { name: '小红 Bob', mobile: '13800000002', topUpMinor: 50_000n },
  ];
  const users = [];
  for (const person of people) {
    const session = await app.identity.signUp({ mobile: person.mobile, password: demoPassword, displayName: person.name });
    await app.identity.setPin(session.user.id, { pin: demoPin, password: demoPassword });
    const card = await app.payments.bindCard(session.user.id, { bank: 'CMB', last4: person.mobile.slice(-4) });
    const user = (await app.identity.getUser(session.user.id)) ?? session.user;
    await app.payments.topUp(user, { cardId: card.id, amountMinor: person.topUpMinor, pin: demoPin, requestKey: `demo-topup-${person.mobile}` });
    users.push(user);
  }
  const [alice, bob] = users;
  if (alice !== undefined && bob !== undefined) {
    await app.payments.transfer(alice, { toMobile: bob.mobile, amountMinor: 8_880n, memo: '午饭 lunch', pin: demoPin, requestKey: 'demo-p2p-1' });
    await app.payments.transfer(bob, { toMobile: alice.mobile, amountMinor: 2_000n, memo: '咖啡 coffee', pin: demoPin, requestKey: 'demo-p2p-2' });
    await app.shops.openShop(bob, { name: demoShopName });
    const shop = await app.shops.myShop(bob.id);
    const paid = await app.shops.pay(alice, { code: shop.receiveCode, amountMinor: demoShopPaymentMinor, pin: demoPin, requestKey: 'demo-shop-1' });
    await app.shops.refund(bob, { paymentId: paid.bill.id, amountMinor: demoShopRefundMinor, requestKey: 'demo-refund-1' });
    // Friends in a family group, with a lucky red packet from Alice waiting for Bob to open.
    const request = await app.social.sendFriendRequest(alice.id, { userId: bob.id });
    await app.social.acceptFriendRequest(bob.id, request.request.id);
    const group = await app.social.groups.createGroup(alice.id, { name: '家人群 Family', memberIds: [bob.id] });
    await app.redPackets.send(alice, { mode: 'lucky', amountMinor: demoPacketMinor, count: 2, groupId: group.id, greeting: '恭喜发财 Happy new year', pin: demoPin, requestKey: 'demo-packet-1' });
  }
  // A campaign budget, so the console can schedule an hourly rain at once.
  await app.rains.depositBudget(demoBudgetMinor, 'demo-budget-1', bankAccountId);
  const operatorPassword = Buffer.from(random.bytes(12)).toString('base64url');
  const admin = await app.operators.create({ username: 'admin', password: operatorPassword, role: 'admin', displayName: 'Demo admin' });
  await seedCampaign(app, admin.id, Buffer.from(random.bytes(12)).toString('base64url'));
  // A demo partner the web app plays: a bike rental asking for a ¥199 deposit (free at a score of 550).
  await app.credit.partners.register(admin.id, { name: demoPartnerName, kind: 'bike', purposes: ['credit.score.share', 'credit.deposit_waiver', 'data.collect.payments'], scoreThreshold: 550 });
  return { users: people.map(({ name, mobile }) => ({ name, mobile })), operator: { username: 'admin', password: operatorPassword } };
}

/**
 * A live shop campaign (¥5 off from ¥20, twice a day per user, a ¥2,000 platform budget), written
 * by a second operator and approved by the admin as four eyes require, so the pay page shows an
 * offer before the PIN at once.
 */
async function seedCampaign(app: App, approverId: string, authorPassword: string): Promise<void> {
  const author = await app.operators.create({ username: 'marketer', password: authorPassword, role: 'operator', displayName: 'Demo marketer' });
  const now = app.clock.nowMs();
  await depositFund(app.ledger, { kind: 'platform', amountMinor: demoCampaignBudgetMinor, requestKey: 'demo-campaign-fund', fromAccountId: bankAccountId });
  const campaign = await app.campaigns.create(author.id, {
    name: '周末立减 Weekend ¥5 off',
    template: { kind: 'fixed', amountMinor: '500', minSpendMinor: '2000' },
    scenes: [{ scene: 'shop_qr' }, { scene: 'payment_code' }],
    segment: { kind: 'all' },
    perUser: { countPerDay: 2, minorPerDay: '1000', countPerCampaign: 10, minorPerCampaign: '5000' },
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 30 * 86_400_000).toISOString(),
    label: 'platform_discount',
    budget: { funding: 'platform', amountMinor: demoCampaignBudgetMinor.toString() },
  });
  await app.marketing.dryRun(campaign.id);
  await app.campaigns.submit(campaign.id);
  await app.campaigns.approve(approverId, campaign.id, demoCampaignBudgetMinor);
  for (let stage = 0; stage < 3; stage += 1) await app.marketing.promote(approverId, campaign.id);
}

export function describeSeed(seed: DemoSeed, baseUrl: string): string {
  const lines = [
    '',
    '  Demo data created. Open ' + baseUrl + ' and log in as:',
    ...seed.users.map((user) => `    ${user.name}: mobile ${user.mobile}, password ${demoPassword}, payment PIN ${demoPin}`),
    `  Operator console: ${baseUrl}/admin — username ${seed.operator.username}, password ${seed.operator.password}`,
    `  (balances: ¥${formatMinor(100_000n - 8_880n + 2_000n - demoShopPaymentMinor + demoShopRefundMinor - demoPacketMinor)} and ¥${formatMinor(50_000n + 8_880n - 2_000n)}; Bob's shop "${demoShopName}" holds ¥${formatMinor(demoShopPaymentMinor - demoShopRefundMinor)})`,
    `  Alice sent a lucky red packet to the family group: log in as Bob to open it. The campaign budget holds ¥${formatMinor(demoBudgetMinor)} for rains.`,
    `  A shop campaign is live: ¥5 off from ¥20 when paying Bob's shop (shown before the PIN).`,
    '',
  ];
  return lines.join('\n');
}
