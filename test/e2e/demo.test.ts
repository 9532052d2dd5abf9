/**
 * Goal: `npm start` on an empty database seeds demo data through the real services — two users
 * with balances and bills between them, an operator — and never seeds a database in use.
 * Method: the whole app on a test schema; the seed function main.ts calls; balances read back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoPassword, describeSeed, seedDemoIfEmpty } from '../../src/demo/seed.ts';
import { SeededRandom } from '../../src/kernel/random.ts';
import { reconcile } from '../../src/ledger/index.ts';
import { createTestApp, type TestApp } from '../../src/testing/app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

test('an empty database gets two users, balances, bills, a shop, a red packet to open, a campaign budget and an operator; a second start adds nothing', async () => {
  const seed = await seedDemoIfEmpty(t.app, t.db.sql, new SeededRandom(3));
  assert.ok(seed);
  assert.equal(seed.users.length, 2);
  const alice = await t.app.identity.findByMobile('13800000001');
  const bob = await t.app.identity.findByMobile('13800000002');
  assert.ok(alice && bob);
  assert.equal((await t.app.ledger.getAccount(alice.walletAccountId))?.balanceMinor, 93_120n - 3_200n + 500n - 666n);
  assert.equal((await t.app.ledger.getAccount(bob.walletAccountId))?.balanceMinor, 56_880n);
  const bills = await t.app.payments.listBills(bob.id, { limit: 20 });
  assert.ok(bills.bills.length >= 3);
  const shop = await t.app.shops.myShop(bob.id);
  assert.equal(shop.balanceMinor, 2_700n);
  const aliceKinds = (await t.app.payments.listBills(alice.id, { limit: 20 })).bills.map((bill) => bill.kind);
  assert.ok(aliceKinds.includes('shop') && aliceKinds.includes('refund') && aliceKinds.includes('redpacket'), aliceKinds.join());
  const inbox = await t.app.redPackets.list(bob.id, 'inbox', { limit: 10 });
  assert.equal(inbox.length, 1);
  assert.equal(inbox[0]?.my_amount_minor, null);
  assert.equal(await t.app.rains.budgetBalance(), 1_000_000n);
  // A live shop campaign: Alice paying Bob's shop ¥30 is offered ¥5 off before the PIN.
  await t.app.engine.refresh();
  const offer = await t.app.payments.quoteDiscount(alice, 'shop_qr', 3_000n);
  assert.equal(offer?.offMinor, 500n);
  const login = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile: '13800000001', password: demoPassword } });
  assert.equal(login.statusCode, 200);
  const admin = await t.app.inject({ method: 'POST', url: '/v1/admin/auth/login', payload: { username: 'admin', password: seed.operator.password } });
  assert.equal(admin.statusCode, 200);
  assert.match(describeSeed(seed, 'http://127.0.0.1:3000'), /13800000002/);
  assert.equal(await seedDemoIfEmpty(t.app, t.db.sql, new SeededRandom(4)), undefined);
  assert.equal((await reconcile(t.db.sql)).ok, true);
});
